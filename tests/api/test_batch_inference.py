"""Batch inference jobs through boto3 (issue 7 §1; spec 30 §11; guide L13500-L14290): input shapes per
recipe type, the output format, error lines, refusals and path errors, and the round trip: JSON Lines
written to moto's S3, the job run, the ``.out`` file read back with get_object and compared with
GetRecommendations / GetPersonalizedRanking for the same user and filter."""

from __future__ import annotations


import boto3
import pytest

from ..helpers import client_error as _code, wait_for
from .batch_world import ROLE, _jobs, put_lines, run_batch_job
from .runtime_world import N_USERS, genre_of, open_world



@pytest.fixture(scope="module")
def world():
    arns, close = open_world()
    personalize = boto3.client("personalize")
    for name in ("up2", "up", "pr", "pop", "sims"):
        arns[f"{name}-version"] = personalize.describe_campaign(campaignArn=arns[name])["campaign"]["solutionVersionArn"]
    for name, expression in (("genre", "INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)"),
                             ("no-clicks", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')):
        arns[f"filter-{name}"] = personalize.create_filter(name=f"batch-{name}", datasetGroupArn=arns["group"],
                                                           filterExpression=expression)["filterArn"]
    yield arns
    close()


@pytest.fixture
def personalize(world):
    return boto3.client("personalize")


@pytest.fixture
def rt(world):
    return boto3.client("personalize-runtime")


def run_job(world, version, lines, expect="ACTIVE", key=None, **kw):
    """Write ``lines`` to S3, run a job on ``version`` (a world key) and return the parsed output lines."""
    return run_batch_job("inference", world[f"{version}-version"], lines, "batch", expect, key, **kw)


def create(world, version="up2", input_path="s3://bucket/batch-in/", output_path="s3://bucket/elsewhere/", **kw):
    return boto3.client("personalize").create_batch_inference_job(
        jobName=f"refused-{next(_jobs)}", solutionVersionArn=world[f"{version}-version"], roleArn=ROLE,
        jobInput={"s3DataSource": {"path": input_path}}, jobOutput={"s3DataDestination": {"path": output_path}},
        **kw)


# ---------------------------------------------------------------- the round trip (acceptance)

@pytest.mark.parametrize("version", ["up2", "up", "pop"])
def test_each_users_batch_recommendations_equal_get_recommendations(world, rt, version):
    users = [f"u{u}" for u in range(N_USERS)] + ["never-seen"]
    out = run_job(world, version, [{"userId": u} for u in users], numResults=10)
    assert [line["input"] for line in out] == [{"userId": u} for u in users]
    for line in out:
        live = rt.get_recommendations(campaignArn=world[version], userId=line["input"]["userId"], numResults=10)
        assert line["output"]["recommendedItems"] == [i["itemId"] for i in live["itemList"]]
        assert len(live["itemList"]) == 10
        if version == "pop":  # Popularity-Count gives no scores (guide's POPULAR_ITEMS example)
            assert "scores" not in line["output"]
        else:
            assert line["output"]["scores"] == [i.get("score") for i in live["itemList"]]
            assert len(line["output"]["scores"]) == len(line["output"]["recommendedItems"])


def test_filter_values_per_line_give_what_get_recommendations_gives(world, rt):
    lines = [{"userId": "u5", "filterValues": {"GENRE": '"Horror", "Comedy", "Drama"'}},
             {"userId": "u3", "filterValues": {"GENRE": '"Horror", "Comedy"'}},
             {"userId": "u34", "filterValues": {"GENRE": '"Drama"'}}]  # the guide's lines (L17285-L17311)
    out = run_job(world, "up2", lines, filterArn=world["filter-genre"])
    for line in out:
        live = rt.get_recommendations(campaignArn=world["up2"], userId=line["input"]["userId"],
                                      filterArn=world["filter-genre"], filterValues=line["input"]["filterValues"])
        assert line["output"]["recommendedItems"] == [i["itemId"] for i in live["itemList"]]
    assert {genre_of(int(i[1:])) for i in out[2]["output"]["recommendedItems"]} == {"Drama"}


def test_a_user_dependent_filter_gives_what_get_recommendations_gives(world, rt):
    out = run_job(world, "up2", [{"userId": f"u{u}"} for u in range(12)], filterArn=world["filter-no-clicks"])
    for line in out:
        live = rt.get_recommendations(campaignArn=world["up2"], userId=line["input"]["userId"],
                                      filterArn=world["filter-no-clicks"])
        assert line["output"]["recommendedItems"] == [i["itemId"] for i in live["itemList"]]


def test_users_served_in_small_blocks_get_what_get_recommendations_gives_and_each_block_reports(world, rt,
                                                                                                 monkeypatch):
    from localpersonalize.api import batch

    monkeypatch.setattr(batch, "BLOCK_CELLS", 1)             # one user per block
    reports = []
    real = batch._inference_lines

    def spy(*args, progress=None, **kw):
        return real(*args, progress=lambda: (reports.append(1), progress()), **kw)

    monkeypatch.setattr(batch, "_inference_lines", spy)
    users = [f"u{u}" for u in range(6)] + ["never-seen"]
    out = run_job(world, "up", [{"userId": u} for u in users], numResults=10)
    assert len(reports) == len(users)
    for line in out:
        live = rt.get_recommendations(campaignArn=world["up"], userId=line["input"]["userId"], numResults=10)
        assert line["output"]["recommendedItems"] == [i["itemId"] for i in live["itemList"]]
        assert line["output"]["scores"] == [i.get("score") for i in live["itemList"]]


def test_a_line_without_its_include_parameter_gets_an_error(world):
    out = run_job(world, "up2", [{"userId": "u1"}, {"userId": "u2", "filterValues": {"GENRE": '"Drama"'}}],
                  filterArn=world["filter-genre"])
    assert "$GENRE" in out[0]["error"] and "output" not in out[0]
    assert out[1]["output"]["recommendedItems"]


def test_related_items_lines_take_an_item_id(world, rt):
    out = run_job(world, "sims", [{"itemId": "i4"}, {"itemId": "i7"}, {"itemId": "unknown-item"}], numResults=5)
    for line in out:
        live = rt.get_recommendations(campaignArn=world["sims"], itemId=line["input"]["itemId"], numResults=5)
        assert line["output"] == {"recommendedItems": [i["itemId"] for i in live["itemList"]]}


def test_ranking_lines_rerank_their_item_list(world, rt):
    lines = [{"userId": "u8", "itemList": ["i27", "i50", "i1", "nope"]}, {"userId": "u9", "itemList": ["i3"]}]
    out = run_job(world, "pr", lines)
    for line in out:
        live = rt.get_personalized_ranking(campaignArn=world["pr"], userId=line["input"]["userId"],
                                           inputList=line["input"]["itemList"])["personalizedRanking"]
        assert line["output"] == {"recommendedItems": [i["itemId"] for i in live],
                                  "scores": [i["score"] for i in live]}
    assert out[0]["output"]["recommendedItems"][-1] == "nope"


def test_num_results_defaults_to_25(world):
    out = run_job(world, "up2", [{"userId": "u1"}])
    assert len(out[0]["output"]["recommendedItems"]) == 25


# ---------------------------------------------------------------- bad lines and inputs

def test_a_line_that_cannot_be_answered_gets_an_error_and_the_others_go_on(world):
    out = run_job(world, "up2", ['{"userId": "u1"}', "not json", '{"itemId": "i1"}', '{"userId": 5}',
                                 '{"userId": "u2"}'])
    assert [("error" in line) for line in out] == [False, True, True, True, False]
    assert out[1] == {"input": "not json", "error": "The line is not a JSON object."}
    assert "userId is required" in out[2]["error"]


def test_every_file_under_a_prefix_is_read_and_gets_its_own_out_file(world, personalize):
    put_lines("prefix-in/part1.json", [{"userId": "u1"}])
    put_lines("prefix-in/part2.json", [{"userId": "u2"}, {"userId": "u3"}])
    put_lines("prefix-in_test/part3.json", [{"userId": "u4"}])  # prefix semantics (guide L13880)
    arn = personalize.create_batch_inference_job(
        jobName="prefixed", solutionVersionArn=world["up2-version"], roleArn=ROLE,
        jobInput={"s3DataSource": {"path": "s3://bucket/prefix-in"}},
        jobOutput={"s3DataDestination": {"path": "s3://bucket/prefix-out/"}})["batchInferenceJobArn"]
    job = wait_for(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=arn), "batchInferenceJob")
    assert job["status"] == "ACTIVE"
    keys = sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="bucket", Prefix="prefix-out/")["Contents"])
    assert keys == ["prefix-out/part1.json.out", "prefix-out/part2.json.out", "prefix-out/part3.json.out"]


def test_input_and_output_paths_are_checked(world):
    put_lines("batch-in/x.json", [{"userId": "u1"}])
    assert _code(create, world=world, input_path="s3://bucket/batch-in/", output_path="s3://bucket/batch-in/")[0] == \
        "InvalidInputException"
    code, message = _code(create, world=world, input_path="https://example.com/in.json")
    assert code == "InvalidInputException" and "input path" in message
    code, message = _code(create, world=world, input_path="s3://bucket/nothing-here/")
    assert code == "InvalidInputException" and "input path" in message
    assert _code(create, world=world, input_path="s3://no-such-bucket/in.json")[0] == "InvalidInputException"


def test_a_missing_output_bucket_fails_the_job(world, personalize):
    put_lines("batch-in/y.json", [{"userId": "u1"}])
    arn = create(world, input_path="s3://bucket/batch-in/y.json",
                 output_path="s3://no-such-bucket/out/")["batchInferenceJobArn"]
    job = wait_for(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=arn), "batchInferenceJob")
    assert job["status"] == "CREATE FAILED" and "no-such-bucket" in job["failureReason"]


# ---------------------------------------------------------------- refusals and the resource

def test_item_exploration_config_is_for_user_personalization_only(world, personalize):
    put_lines("batch-in/z.json", [{"userId": "u1"}])
    config = {"itemExplorationConfig": {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}}
    arn = create(world, "up", input_path="s3://bucket/batch-in/z.json", batchInferenceJobConfig=config)[
        "batchInferenceJobArn"]
    job = wait_for(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=arn), "batchInferenceJob")
    assert job["batchInferenceJobConfig"] == config and job["status"] == "ACTIVE"
    assert _code(create, world=world, version="pop", input_path="s3://bucket/batch-in/z.json",
                 batchInferenceJobConfig=config)[0] == "InvalidInputException"


def test_a_filter_of_another_dataset_group_is_refused(world, personalize):
    other = personalize.create_filter(name="batch-vod", datasetGroupArn=world["vod"],
                                      filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')
    code, _ = _code(create, world=world, input_path="s3://bucket/batch-in/z.json", filterArn=other["filterArn"])
    assert code == "InvalidInputException"


def test_describe_and_list_show_the_job_with_the_service_statuses(world, personalize):
    put_lines("batch-in/list.json", [{"userId": "u1"}])
    arn = create(world, "up", input_path="s3://bucket/batch-in/list.json", numResults=7,
                 tags=[{"tagKey": "team", "tagValue": "crm"}])["batchInferenceJobArn"]
    job = wait_for(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=arn), "batchInferenceJob")
    assert job["batchInferenceJobArn"].split(":")[-1].startswith("batch-inference-job/refused-")
    assert (job["numResults"], job["batchInferenceJobMode"], job["solutionVersionArn"]) == (
        7, "BATCH_INFERENCE", world["up-version"])
    listed = personalize.list_batch_inference_jobs(solutionVersionArn=world["up-version"])["batchInferenceJobs"]
    assert arn in [j["batchInferenceJobArn"] for j in listed]
    assert personalize.list_tags_for_resource(resourceArn=arn)["tags"] == [{"tagKey": "team", "tagValue": "crm"}]


def test_statuses_walk_pending_in_progress_active(world, personalize):
    from localpersonalize.control import clock

    clock.set_pacing("stepped")
    put_lines("batch-in/steps.json", [{"userId": "u1"}])
    arn = create(world, input_path="s3://bucket/batch-in/steps.json")["batchInferenceJobArn"]
    seen = [personalize.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]["status"]
            for _ in range(3)]
    assert seen == ["PENDING", "IN PROGRESS", "ACTIVE"]


# ---------------------------------------------------------------- the block's output lines (batch._answer_lines)

def _fake_served(recipe_name):
    from types import SimpleNamespace

    from localpersonalize.api.solutions import recipe_for

    ids = [f"i{c}" for c in range(40)] + ['é"\\ü', "日本"]
    return SimpleNamespace(recipe=recipe_for(f"arn:aws:personalize:::recipe/{recipe_name}"),
                           data=SimpleNamespace(items=SimpleNamespace(ids=ids)))


@pytest.mark.parametrize("recipe", ["aws-user-personalization", "aws-user-personalization-v2", "aws-popularity-count"])
def test_block_output_lines_are_the_predicted_items_answer_byte_for_byte(recipe):
    """Scores rounded to 7 decimals, NaN = 0.0 on v1 recipes and null on v2 ones (an item with a reason
    keeps none), padding dropped wherever it is, non-ASCII IDs kept: the text equals
    _json_line of _answer(serving.predicted) of the same Ranked."""
    import numpy as np

    from localpersonalize.api import batch
    from localpersonalize.control import serving

    served = _fake_served(recipe)
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 42, (6, 5))
    scores = rng.random((6, 5)) ** 6
    codes[1, 3:] = -1                                   # a short list
    codes[2, :] = -1                                    # an empty one
    codes[3, 1] = -1                                    # a hole
    scores[4, [0, 2]] = np.nan                          # unknown items / placeholders
    scores[5, :] = np.nan                               # no score at all
    scores[0, 0] = 0.123456749999999                    # near a rounding half
    reasons = [None, None, None, None, [["Popular item"], [], ["Exploration"], [], []], None]
    lines = [{"userId": f"u{r}", "x": ["ü", 1.5, None]} for r in range(6)]
    got = batch._answer_lines(served, lines, codes, scores, reasons)
    for r in range(6):
        keep = codes[r] >= 0
        ranked = serving.Ranked.of(codes[r][keep], scores[r][keep], reasons[r])
        want = batch._json_line({"input": lines[r], "output": batch._answer(serving.predicted(served, ranked))})
        assert got[r] == want


def test_scores_round_as_pythons_round_does():
    import numpy as np

    from localpersonalize.api import batch

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.random(20_000) ** 8, (rng.integers(0, 10**8, 20_000) + 0.5) / 10**8,
                        [0.0, 1.0, 2.675, 0.285, 5e-8, 1.5e-7, 2.5e-7, 99.99999995, 1e12, np.inf]])
    got = batch._round_scores(x)
    assert [repr(v) for v in got.tolist()] == [repr(round(v, 7)) for v in x.tolist()]
