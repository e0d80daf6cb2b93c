"""``context`` through boto3 (issue 6 §6; spec 30 §10.1, control/serving.py "Context"): a planted world
where mobile users favour items m0-m9 and desktop users items d0-d9, recorded with a DEVICE field in the
Interactions schema. The same user's top items follow the request's DEVICE; recipes that do not use
context ignore it; a key the schema lacks is InvalidInputException."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError


from ..helpers import offline_personalize, wait_for
from .runtime_world import RECIPE, _import

ITEMS = [f"m{i}" for i in range(10)] + [f"d{i}" for i in range(10)] + [f"x{i}" for i in range(10)]


def _rows():
    rng = np.random.default_rng(3)
    rows = []
    for u in range(60):
        for k in range(20):
            device = "mobile" if rng.random() < 0.5 else "desktop"
            pool = ITEMS[:10] if device == "mobile" else ITEMS[10:20]
            item = pool[int(rng.integers(10))] if rng.random() < 0.8 else ITEMS[int(rng.integers(30))]
            rows.append((f"u{u}", item, 1_600_000_000 + u * 100 + k, "click", device))
    return rows


@pytest.fixture(scope="module")
def world():
    with offline_personalize():
        p = boto3.client("personalize")
        boto3.client("s3").create_bucket(Bucket="bucket")
        group = p.create_dataset_group(name="ctx")["datasetGroupArn"]
        doc = json.dumps({"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                          "version": "1.0", "fields": [
                              {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                              {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
                              {"name": "DEVICE", "type": ["null", "string"], "categorical": True}]})
        ds = p.create_dataset(name="ctx-i", schemaArn=p.create_schema(name="ctx-i", schema=doc)["schemaArn"],
                              datasetGroupArn=group, datasetType="Interactions")["datasetArn"]
        _import(p, ds, "ctx-i", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE", _rows())
        arns = {}
        for name, recipe in (("up", "aws-user-personalization"), ("pr", "aws-personalized-ranking"),
                             ("pop", "aws-popularity-count")):
            sol = p.create_solution(name=f"ctx-{name}", datasetGroupArn=group, recipeArn=RECIPE + recipe,
                                    performAutoTraining=False)["solutionArn"]
            ver = p.create_solution_version(solutionArn=sol)["solutionVersionArn"]
            assert wait_for(lambda: p.describe_solution_version(solutionVersionArn=ver),
                            "solutionVersion")["status"] == "ACTIVE"
            arns[name] = p.create_campaign(name=f"ctx-{name}", solutionVersionArn=ver, campaignConfig={
                "itemExplorationConfig": {"explorationWeight": "0"}} if name == "up" else {})["campaignArn"]
            wait_for(lambda: p.describe_campaign(campaignArn=arns[name]), "campaign")
        yield arns


@pytest.fixture
def rt(world):
    return boto3.client("personalize-runtime")


def _top(rt, arn, context=None, n=5, user="u7"):
    kw = {"context": context} if context else {}
    return [i["itemId"] for i in rt.get_recommendations(campaignArn=arn, userId=user, numResults=n, **kw)["itemList"]]


def test_the_same_users_top_items_follow_the_device_in_context(rt, world):
    for user in ("u7", "u8", "nobody"):
        mobile = _top(rt, world["up"], {"DEVICE": "mobile"}, user=user)
        desktop = _top(rt, world["up"], {"DEVICE": "desktop"}, user=user)
        assert sum(i.startswith("m") for i in mobile) >= 4, mobile
        assert sum(i.startswith("d") for i in desktop) >= 4, desktop


def test_scores_with_context_stay_a_distribution_and_sorted(rt, world):
    items = rt.get_recommendations(campaignArn=world["up"], userId="u7", numResults=30,
                                   context={"DEVICE": "mobile"})["itemList"]
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True) and 0.99 < sum(scores) <= 1.0 + 1e-6


def test_a_context_value_never_recorded_changes_nothing(rt, world):
    assert _top(rt, world["up"], {"DEVICE": "tv"}) == _top(rt, world["up"])


def test_personalized_ranking_uses_context(rt, world):
    inputs = ["m1", "d1", "m2", "d2"]
    for device, prefix in (("mobile", "m"), ("desktop", "d")):
        ranking = rt.get_personalized_ranking(campaignArn=world["pr"], userId="u7", inputList=inputs,
                                              context={"DEVICE": device})["personalizedRanking"]
        assert {i["itemId"][0] for i in ranking[:2]} == {prefix}
        assert abs(sum(i["score"] for i in ranking) - 1.0) < 1e-6


def test_a_recipe_without_context_ignores_it(rt, world):
    assert _top(rt, world["pop"], {"DEVICE": "mobile"}) == _top(rt, world["pop"])


def test_a_context_key_the_interactions_schema_lacks_is_invalid_input(rt, world):
    for arn in (world["up"], world["pop"]):
        with pytest.raises(ClientError) as err:
            rt.get_recommendations(campaignArn=arn, userId="u7", context={"LOCATION": "Seoul"})
        assert err.value.response["Error"]["Code"] == "InvalidInputException"
        assert "LOCATION" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        rt.get_personalized_ranking(campaignArn=world["pr"], userId="u7", inputList=["m1"], context={"USER_ID": "x"})
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_more_than_500_input_items_is_invalid_input(rt, world):
    with pytest.raises(ClientError) as err:
        rt.get_personalized_ranking(campaignArn=world["pr"], userId="u7", inputList=[f"i{k}" for k in range(501)])
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert len(rt.get_personalized_ranking(campaignArn=world["pr"], userId="u7",
                                           inputList=[f"i{k}" for k in range(500)])["personalizedRanking"]) == 500
