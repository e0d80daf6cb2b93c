"""Exploration through boto3 (issue 6 §8; spec 20 §B.2; engine/exploration.py): 30 items with interactions
long ago and 10 new items (Items rows created at the newest interaction, never interacted with). The
campaign's explorationWeight sets how many new items appear, explorationItemAgeCutOff which ones may,
answers are deterministic, impressions lower an item's chance, UP-v2 labels its explored items."""

from __future__ import annotations

import json

import boto3
import pytest


from ..helpers import client_error, offline_personalize, wait_for
from .runtime_world import RECIPE, _import

T0 = 1_600_000_000
DAY = 86400
NEW = [f"n{i}" for i in range(10)]


def _schema(p, name, dtype, fields):
    doc = json.dumps({"type": "record", "name": dtype, "namespace": "com.amazonaws.personalize.schema",
                      "version": "1.0", "fields": fields})
    return p.create_schema(name=name, schema=doc)["schemaArn"]


@pytest.fixture(scope="module")
def world():
    with offline_personalize():
        p = boto3.client("personalize")
        boto3.client("s3").create_bucket(Bucket="bucket")
        group = p.create_dataset_group(name="ex")["datasetGroupArn"]
        rows = [(f"u{u}", f"i{(u * 7 + k * 3) % 30}", T0 + u * 100 + k, "click") for u in range(60) for k in range(20)]
        newest = max(r[2] for r in rows)
        inter = p.create_dataset(name="ex-i", datasetGroupArn=group, datasetType="Interactions", schemaArn=_schema(
            p, "ex-i", "Interactions", [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                        {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
                                        {"name": "IMPRESSION", "type": ["null", "string"]}]))["datasetArn"]
        _import(p, inter, "ex-i", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE", rows)
        items = p.create_dataset(name="ex-items", datasetGroupArn=group, datasetType="Items", schemaArn=_schema(
            p, "ex-items", "Items", [{"name": "ITEM_ID", "type": "string"},
                                     {"name": "PRICE", "type": "float"},
                                     {"name": "CREATION_TIMESTAMP", "type": "long"}]))["datasetArn"]
        _import(p, items, "ex-items", "ITEM_ID,PRICE,CREATION_TIMESTAMP",
                [(f"i{i}", 1.0, T0 - 100 * DAY) for i in range(30)] + [(n, 1.0, newest - 2 * DAY) for n in NEW])
        arns = {"group": group, "tracker": p.create_event_tracker(name="ex-t", datasetGroupArn=group)["trackingId"]}
        versions = {}
        for recipe in ("aws-user-personalization", "aws-user-personalization-v2"):
            sol = p.create_solution(name=f"ex-{recipe}", datasetGroupArn=group, recipeArn=RECIPE + recipe,
                                    performAutoTraining=False)["solutionArn"]
            versions[recipe] = p.create_solution_version(solutionArn=sol)["solutionVersionArn"]
            assert wait_for(lambda: p.describe_solution_version(solutionVersionArn=versions[recipe]),
                            "solutionVersion")["status"] == "ACTIVE"
        arns["up_version"] = versions["aws-user-personalization"]
        for name, weight, cut in (("w0", "0", "30"), ("w3", "0.3", "30"), ("w10", "1", "30"), ("cut", "1", "1")):
            arns[name] = p.create_campaign(name=f"ex-{name}", solutionVersionArn=versions["aws-user-personalization"],
                                           campaignConfig={"itemExplorationConfig": {
                                               "explorationWeight": weight, "explorationItemAgeCutOff": cut}}
                                           )["campaignArn"]
        arns["v2"] = p.create_campaign(name="ex-v2", solutionVersionArn=versions["aws-user-personalization-v2"]
                                       )["campaignArn"]
        for key in ("w0", "w3", "w10", "cut", "v2"):
            wait_for(lambda: p.describe_campaign(campaignArn=arns[key]), "campaign")
        yield arns


@pytest.fixture
def rt(world):
    return boto3.client("personalize-runtime")


def _new(rt, arn, user="u3", n=10):
    return [i for i in rt.get_recommendations(campaignArn=arn, userId=user, numResults=n)["itemList"]
            if i["itemId"] in NEW]


@pytest.mark.parametrize("config, words", [
    ({"explorationWeight": "abc"}, "explorationWeight must be a number between 0 and 1"),
    ({"explorationWeight": "1.5"}, "explorationWeight must be a number between 0 and 1"),
    ({"explorationWeight": "-1"}, "explorationWeight must be a number between 0 and 1"),
    ({"explorationWeight": "nan"}, "explorationWeight must be a number between 0 and 1"),
    ({"explorationItemAgeCutOff": "0.5"}, "explorationItemAgeCutOff must be a number at least 1"),
    ({"explorationweight": "0.3"}, "unknown key 'explorationweight'"),
])
def test_an_exploration_config_out_of_range_is_refused_at_create(world, config, words):
    p = boto3.client("personalize")
    code, message = client_error(p.create_campaign, name="ex-bad", solutionVersionArn=world["up_version"],
                                 campaignConfig={"itemExplorationConfig": config})
    assert code == "InvalidInputException" and words in message
    assert "ex-bad" not in {c["name"] for c in p.list_campaigns()["campaigns"]}


def test_exploration_weight_sets_how_many_new_items_appear(rt, world):
    assert [len(_new(rt, world[w])) for w in ("w0", "w3", "w10")] == [0, 3, 10]


def test_the_age_cut_off_keeps_older_items_out_of_exploration(rt, world):
    # 1 day: the new items were created two days before the newest interaction
    assert _new(rt, world["cut"]) == []


def test_explored_items_come_last_with_their_score_and_answers_repeat(rt, world):
    answer = rt.get_recommendations(campaignArn=world["w3"], userId="u3", numResults=10)["itemList"]
    assert [i["itemId"] in NEW for i in answer] == [False] * 7 + [True] * 3
    assert all(i["score"] == 0.0 for i in answer[7:])  # never interacted with: unknown to the model
    assert rt.get_recommendations(campaignArn=world["w3"], userId="u3", numResults=10)["itemList"] == answer


def test_impressions_lower_an_items_chance_to_be_explored(rt, world):
    users = [f"u{k}" for k in range(40)]
    before = sum(i["itemId"] in NEW[:5] for u in users for i in _new(rt, world["w3"], u))
    events = boto3.client("personalize-events")
    for k in range(10):
        events.put_events(trackingId=world["tracker"], userId="viewer", sessionId="s", eventList=[
            {"eventType": "click", "itemId": "i1", "sentAt": T0 + 10 * DAY + k, "impression": NEW[:5] + ["i1"]}])
    after = sum(i["itemId"] in NEW[:5] for u in users for i in _new(rt, world["w3"], u))
    assert before > 40 and after < before / 3, (before, after)


def test_user_personalization_v2_labels_explored_items(rt, world):
    answer = rt.get_recommendations(campaignArn=world["v2"], userId="u3", numResults=20)["itemList"]
    explored = [i for i in answer if i.get("reason") == ["Exploration"]]
    assert len(explored) == 2 and all(i["itemId"] in NEW and "score" not in i for i in explored)
