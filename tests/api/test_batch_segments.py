"""Batch segment jobs through boto3 (issue 7 §3; spec 30 §12; guide L14290-L14700): Item-Affinity and
Item-Attribute-Affinity segments ranked by the trained model, on synthetic users with a known taste (user
u likes genre u % 3), the limits and refusals."""

from __future__ import annotations


import boto3
import pytest

from ..helpers import client_error as _code
from .batch_world import ROLE, build_catalogue, open_world, run_batch_job
from .runtime_world import GENRES



@pytest.fixture(scope="module")
def world():
    with open_world(lambda: build_catalogue(("aws-item-affinity", "aws-item-attribute-affinity",
                                             "aws-similar-items"))) as arns:
        yield arns


def run(world, recipe, lines, expect="ACTIVE", **kw):
    return run_batch_job("segment", world[recipe], lines, "segments", expect, **kw)


def taste(user_id: str) -> str:
    return GENRES[int(user_id[1:]) % 3]


def test_item_affinity_puts_the_users_who_like_the_items_genre_on_top(world):
    out = run(world, "aws-item-affinity", [{"itemId": "i0"}, {"itemId": "i4"}, {"itemId": "i8"}], numResults=10)
    for line, genre in zip(out, ("Comedy", "Drama", "Horror")):  # item i has genre GENRES[i % 3]
        users = line["output"]["recommendedUsers"]
        assert len(users) == 10 and {taste(u) for u in users} == {genre}


def test_item_attribute_affinity_ranks_users_by_affinity_for_the_matching_items(world):
    out = run(world, "aws-item-attribute-affinity",
              [{"itemAttributes": 'ITEMS.genre = "Horror"'}, {"itemAttributes": 'ITEMS.GENRE = "Drama"'},
               {"itemAttributes": 'ITEMS.GENRE = "Horror" AND ITEMS.GENRE = "Comedy"'}], numResults=20)
    assert out[0]["input"] == {"itemAttributes": 'ITEMS.genre = "Horror"'}
    assert {taste(u) for u in out[0]["output"]["recommendedUsers"]} == {"Horror"}
    assert {taste(u) for u in out[1]["output"]["recommendedUsers"]} == {"Drama"}
    assert out[2]["output"]["recommendedUsers"] == []  # no item is both


def test_num_results_defaults_to_25_users(world):
    out = run(world, "aws-item-affinity", [{"itemId": "i1"}])
    assert len(out[0]["output"]["recommendedUsers"]) == 25
    assert len(set(out[0]["output"]["recommendedUsers"])) == 25


def test_lines_that_cannot_be_answered_get_an_error(world):
    out = run(world, "aws-item-attribute-affinity",
              ['ITEMS.GENRE = "Horror"', {"itemAttributes": 'ITEMS.GENRE IN ("Horror")'},
               {"itemAttributes": 'ITEMS.DESCRIPTION = "ghost"'}, {"itemAttributes": 'ITEMS.NOPE = "x"'}])
    assert out[0]["error"] == "The line is not a JSON object."
    assert 'ITEMS.<column> = "<value>"' in out[1]["error"]
    assert "textual" in out[2]["error"] and "not a column" in out[3]["error"]
    out = run(world, "aws-item-affinity", [{"itemId": "never-seen"}])
    assert "not in the solution version's training data" in out[0]["error"]


def test_at_most_500_items_or_10_queries_per_job(world):
    job = run(world, "aws-item-attribute-affinity", [{"itemAttributes": 'ITEMS.GENRE = "Drama"'}] * 11,
              expect="CREATE FAILED")
    assert "at most 10" in job["failureReason"]
    job = run(world, "aws-item-affinity", [{"itemId": f"i{k % 60}"} for k in range(501)], expect="CREATE FAILED")
    assert "at most 500" in job["failureReason"]


def test_segment_and_inference_jobs_need_their_own_recipes(world):
    boto3.client("s3").put_object(Bucket="bucket", Key="segments-in/x.json", Body=b'{"itemId": "i1"}\n')
    personalize = boto3.client("personalize")
    kw = dict(roleArn=ROLE, jobInput={"s3DataSource": {"path": "s3://bucket/segments-in/x.json"}},
              jobOutput={"s3DataDestination": {"path": "s3://bucket/segments-out/x/"}})
    code, message = _code(personalize.create_batch_segment_job, jobName="wrong-recipe",
                          solutionVersionArn=world["aws-similar-items"], **kw)
    assert code == "InvalidInputException" and "USER_SEGMENTATION" in message
    code, message = _code(personalize.create_batch_inference_job, jobName="wrong-recipe",
                          solutionVersionArn=world["aws-item-affinity"], **kw)
    assert code == "InvalidInputException" and "batch segment jobs" in message
    code, _ = _code(personalize.create_batch_segment_job, jobName="too-many",
                    solutionVersionArn=world["aws-item-affinity"], numResults=5_000_001, **kw)
    assert code == "InvalidInputException"


def test_describe_and_list_segment_jobs(world):
    personalize = boto3.client("personalize")
    run(world, "aws-item-affinity", [{"itemId": "i2"}], numResults=3)
    jobs = personalize.list_batch_segment_jobs(solutionVersionArn=world["aws-item-affinity"])["batchSegmentJobs"]
    assert jobs and all(j["status"] in ("ACTIVE", "CREATE FAILED") for j in jobs)
    found = personalize.describe_batch_segment_job(batchSegmentJobArn=jobs[0]["batchSegmentJobArn"])["batchSegmentJob"]
    assert found["numResults"] == 3 and found["batchSegmentJobArn"].split(":")[-1].startswith("batch-segment-job/")
