"""Custom recipes through boto3: every recipe trains with its family's metrics, the solution's training
rules (eventType, eventValueThreshold, excluded columns), CreateSolution's hyperparameter checks, HPO
with tunedHPOParams, and trainingMode UPDATE (issue 5)."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError

from ..helpers import offline_personalize, wait_for
from ..retail_data import ITEMS_SCHEMA, retail_world

ROLE = "arn:aws:iam::123456789012:role/personalize"
RECIPE = "arn:aws:personalize:::recipe/"
VALUE = {"View": 1.0, "AddToCart": 2.0, "Purchase": 3.0}
INTERACTIONS = {"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                           {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
                           {"name": "EVENT_VALUE", "type": ["null", "float"]}], "version": "1.0"}
STANDARD = {"coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_5",
            "normalized_discounted_cumulative_gain_at_10", "normalized_discounted_cumulative_gain_at_25",
            "precision_at_5", "precision_at_10", "precision_at_25"}


@pytest.fixture(scope="module")
def shop():
    retail = retail_world(n_users=500, seed=2)
    with offline_personalize():
        personalize, s3 = boto3.client("personalize"), boto3.client("s3")
        s3.create_bucket(Bucket="shop")
        group = personalize.create_dataset_group(name="shop")["datasetGroupArn"]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"])
        w.writerows((u, i, t, e, VALUE[e]) for u, i, t, e in retail.events)
        for dtype, schema, body in (("INTERACTIONS", INTERACTIONS, buf.getvalue().encode()),
                                    ("ITEMS", ITEMS_SCHEMA, retail.items_csv)):
            arn = personalize.create_schema(name=f"s-{dtype}", schema=json.dumps(schema))["schemaArn"]
            ds = personalize.create_dataset(name=dtype, schemaArn=arn, datasetGroupArn=group,
                                            datasetType=dtype)["datasetArn"]
            s3.put_object(Bucket="shop", Key=dtype, Body=body)
            job = personalize.create_dataset_import_job(jobName=dtype, datasetArn=ds, roleArn=ROLE,
                                                        dataSource={"dataLocation": f"s3://shop/{dtype}"})
            assert wait_for(lambda: personalize.describe_dataset_import_job(
                datasetImportJobArn=job["datasetImportJobArn"]), "datasetImportJob")["status"] == "ACTIVE"
        yield {"group": group, "retail": retail, "personalize": personalize}


def _version(shop, name, recipe, **kw):
    p = shop["personalize"]
    sol = p.create_solution(name=name, datasetGroupArn=shop["group"], recipeArn=RECIPE + recipe,
                            performAutoTraining=False, **kw)["solutionArn"]
    arn = p.create_solution_version(solutionArn=sol)["solutionVersionArn"]
    return sol, wait_for(lambda: p.describe_solution_version(solutionVersionArn=arn), "solutionVersion", 600)


@pytest.mark.parametrize("recipe, keys", [
    ("aws-user-personalization-v2", STANDARD), ("aws-user-personalization", STANDARD),
    ("aws-personalized-ranking-v2", STANDARD), ("aws-personalized-ranking", STANDARD),
    ("aws-popularity-count", STANDARD), ("aws-trending-now", STANDARD | {"trend_prediction_accuracy"}),
    ("aws-sims", STANDARD), ("aws-similar-items", STANDARD),
    ("aws-item-affinity", {"coverage", "hits_at_1_percent", "recall_at_1_percent"}),
    ("aws-item-attribute-affinity", {"coverage", "hits_at_1_percent", "recall_at_1_percent"})])
def test_every_custom_recipe_trains_with_its_family_metrics(shop, recipe, keys):
    sol, version = _version(shop, f"all-{recipe}", recipe)
    assert version["status"] == "ACTIVE", version.get("failureReason")
    assert 0 < version["trainingHours"] < 0.05
    metrics = shop["personalize"].get_solution_metrics(solutionVersionArn=version["solutionVersionArn"])["metrics"]
    shop["personalize"].delete_solution(solutionArn=sol)       # 10 ACTIVE solutions per group at most
    assert set(metrics) == keys


def test_event_type_and_value_threshold_choose_the_training_events(shop):
    """Popularity-Count on Purchase events with EVENT_VALUE ≥ 3 ranks by unique buyers."""
    _, version = _version(shop, "buyers", "aws-popularity-count", eventType="Purchase",
                          solutionConfig={"eventValueThreshold": "3"})
    campaign = shop["personalize"].create_campaign(name="buyers", solutionVersionArn=version["solutionVersionArn"])
    wait_for(lambda: shop["personalize"].describe_campaign(campaignArn=campaign["campaignArn"]), "campaign")
    buyers = Counter(i for _, i in {(u, i) for u, i, _, e in shop["retail"].events if e == "Purchase"})
    answer = boto3.client("personalize-runtime").get_recommendations(campaignArn=campaign["campaignArn"],
                                                                     userId="x", numResults=5)
    assert [buyers[x["itemId"]] for x in answer["itemList"]] == sorted(buyers.values(), reverse=True)[:5]


def test_a_threshold_no_event_reaches_fails_with_the_numbers(shop):
    sol, version = _version(shop, "none", "aws-popularity-count", eventType="View",
                            solutionConfig={"eventValueThreshold": "2.5"})
    shop["personalize"].delete_solution(solutionArn=sol)
    assert version["status"] == "CREATE FAILED" and "found 0" in version["failureReason"]


@pytest.mark.parametrize("config, perform_hpo, words", [
    ({"algorithmHyperParameters": {"hidden_dimension": "500"}}, False, "hidden_dimension"),
    ({"algorithmHyperParameters": {"no_such": "1"}}, False, "no_such"),
    ({"featureTransformationParameters": {"max_user_history_length_percentile": "1.5"}}, False, "percentile"),
    ({"hpoConfig": {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "41"}}}, True, "40"),
    ({"hpoConfig": {"algorithmHyperParameterRanges": {"integerHyperParameterRanges": [
        {"name": "hidden_dimension", "minValue": 8, "maxValue": 64}]}}}, True, "hidden_dimension"),
    ({"trainingDataConfig": {"excludedDatasetColumns": {"INTERACTIONS": ["EVENT_TYPE"]}}}, False, "EVENT_TYPE"),
])
def test_create_solution_checks_hyperparameters_hpo_and_excluded_columns(shop, config, perform_hpo, words):
    with pytest.raises(ClientError) as err:
        shop["personalize"].create_solution(name="bad", datasetGroupArn=shop["group"],
                                            recipeArn=RECIPE + "aws-user-personalization",
                                            solutionConfig=config, performHPO=perform_hpo)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert words in err.value.response["Error"]["Message"]


def test_recipes_without_hpo_refuse_perform_hpo(shop):
    with pytest.raises(ClientError) as err:
        shop["personalize"].create_solution(name="v2hpo", datasetGroupArn=shop["group"],
                                            recipeArn=RECIPE + "aws-user-personalization-v2", performHPO=True)
    assert "hyperparameter optimization" in err.value.response["Error"]["Message"]


def test_hpo_searches_the_ranges_and_reports_tuned_hyperparameters(shop):
    hpo = {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "3", "maxParallelTrainingJobs": "2"},
           "algorithmHyperParameterRanges": {
               "integerHyperParameterRanges": [{"name": "min_cointeraction_count", "minValue": 0, "maxValue": 4}],
               "continuousHyperParameterRanges": [{"name": "popularity_discount_factor", "minValue": 0.2,
                                                   "maxValue": 0.8}],
               "categoricalHyperParameterRanges": []}}
    sol, version = _version(shop, "tuned", "aws-sims", performHPO=True, solutionConfig={"hpoConfig": hpo})
    shop["personalize"].delete_solution(solutionArn=sol)
    assert version["status"] == "ACTIVE", version.get("failureReason")
    tuned = version["tunedHPOParams"]["algorithmHyperParameters"]
    assert set(tuned) == {"popularity_discount_factor", "min_cointeraction_count"}


def test_training_mode_update_folds_in_new_items_without_retraining(shop):
    p = shop["personalize"]
    sol, full = _version(shop, "upd", "aws-user-personalization")
    from localpersonalize.moto_compat import store_for
    store = store_for("123456789012", "us-east-1")
    data = store.find(shop["group"]).extra["data"]
    before = store.find(full["solutionVersionArn"]).extra["trained"]
    users = [u["id"] for u in shop["retail"].users[:30]]
    data.dataset("INTERACTIONS").put_records(
        [{"USER_ID": u, "ITEM_ID": "brand-new-item", "TIMESTAMP": 1_800_000_000 + k, "EVENT_TYPE": "View",
          "EVENT_VALUE": 1.0} for k, u in enumerate(users)])
    arn = p.create_solution_version(solutionArn=sol, trainingMode="UPDATE")["solutionVersionArn"]
    update = wait_for(lambda: p.describe_solution_version(solutionVersionArn=arn), "solutionVersion")
    assert update["status"] == "ACTIVE" and update["trainingMode"] == "UPDATE"
    after = store.find(arn).extra["trained"]
    assert after.n_items == before.n_items + 1 and after.metrics == before.metrics
    new = data.items.code("brand-new-item", add=False)
    assert after.model.popularity[new] == 30
