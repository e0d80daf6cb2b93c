"""GetActionRecommendations through boto3 (issue 6 §3; spec 30 §10.5; guide L7390-L7420): a planted
Next-Best-Action world — users with an even number take action ``a0``, the others ``a1``; ``a2`` has
expired; ``a3`` repeats only every 30 days; a second group without action interactions (short of the data
gate) answers with scores 0.0."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from localpersonalize.control import clock

from ..helpers import offline_personalize, wait_for
from .runtime_world import RECIPE, _import

DAY = 86400
N_USERS = 60


def _group(p, name: str, now: int, action_rows: list, with_value: bool = True) -> dict:
    group = p.create_dataset_group(name=name)["datasetGroupArn"]
    rng = np.random.default_rng(1)
    interactions = [(f"u{u}", f"i{int(rng.integers(40))}", now - DAY * int(rng.integers(1, 30)), "click")
                    for u in range(N_USERS) for _ in range(20)]
    actions = [("a0", 5, "", 0, now - 20 * DAY), ("a1", 1, "", 0, now - 20 * DAY),
               ("a2", 9, now - DAY, 0, now - 20 * DAY), ("a3", 3, "", 30, now - 20 * DAY),
               ("a4", 2, "", 0, now - 2 * DAY)]
    for dtype, fields, header, rows in (
        ("Interactions", [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                          {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}],
         "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE", interactions),
        ("Actions", [{"name": "ACTION_ID", "type": "string"}, {"name": "VALUE", "type": ["null", "long"]},
                     {"name": "EXPIRATION_TIMESTAMP", "type": ["null", "long"]},
                     {"name": "REPEAT_FREQUENCY", "type": ["null", "long"]},
                     {"name": "CREATION_TIMESTAMP", "type": "long"}],
         "ACTION_ID,VALUE,EXPIRATION_TIMESTAMP,REPEAT_FREQUENCY,CREATION_TIMESTAMP", actions),
        ("Action_Interactions", [{"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
                                 {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}],
         "USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE", action_rows),
    ):
        doc = json.dumps({"type": "record", "name": dtype.replace("_", ""), "fields": fields, "version": "1.0",
                          "namespace": "com.amazonaws.personalize.schema"})
        schema = p.create_schema(name=f"{name}-{dtype}", schema=doc)["schemaArn"]
        ds = p.create_dataset(name=f"{name}-{dtype}", schemaArn=schema, datasetGroupArn=group,
                              datasetType=dtype)["datasetArn"]
        if rows:
            _import(p, ds, f"{name}-{dtype}", header, rows)
    solution = p.create_solution(name=f"{name}-nba", datasetGroupArn=group, recipeArn=RECIPE + "aws-next-best-action",
                                 performAutoTraining=False)["solutionArn"]
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    found = wait_for(lambda: p.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert found["status"] == "ACTIVE", found.get("failureReason")
    out = {"group": group}
    for key, weight in (("plain", "0"), ("explore", "1")):
        out[key] = p.create_campaign(name=f"{name}-{key}", solutionVersionArn=version, campaignConfig={
            "itemExplorationConfig": {"explorationWeight": weight, "explorationItemAgeCutOff": "7"}})["campaignArn"]
        wait_for(lambda: p.describe_campaign(campaignArn=out[key]), "campaign")
    return out


@pytest.fixture(scope="module")
def world():
    with offline_personalize():
        p = boto3.client("personalize")
        boto3.client("s3").create_bucket(Bucket="bucket")
        now = int(clock.now())
        rows = []
        for u in range(N_USERS):
            mine, other = ("a0", "a1") if u % 2 == 0 else ("a1", "a0")
            for d in (40, 35, 30, 25, 20, 15, 10, 8, 6, 4):
                rows.append((f"u{u}", mine, now - d * DAY, "TAKEN"))
                rows.append((f"u{u}", other, now - d * DAY + 60, "NOT_TAKEN"))
        rows.append(("u0", "a3", now - 5 * DAY, "TAKEN"))
        yield {"main": _group(p, "nba", now, rows), "gated": _group(p, "gate", now, []), "now": now}


@pytest.fixture
def rt(world):
    return boto3.client("personalize-runtime")


def _actions(answer):
    return [a["actionId"] for a in answer["actionList"]]


def test_each_user_gets_the_action_users_like_them_take(rt, world):
    for user, best in (("u2", "a0"), ("u3", "a1")):
        answer = rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId=user)
        assert _actions(answer)[0] == best
        scores = [a["score"] for a in answer["actionList"]]
        assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
        assert answer["recommendationId"].startswith("RID-")


def test_num_results_defaults_to_5_and_at_most_100(rt, world):
    answer = rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2")
    assert len(answer["actionList"]) == 4  # five actions, one expired
    assert len(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2",
                                             numResults=2)["actionList"]) == 2
    with pytest.raises(ClientError) as err:
        rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2", numResults=101)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_an_expired_action_is_never_recommended(rt, world):
    for user in ("u1", "u2", "nobody"):
        assert "a2" not in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId=user,
                                                                  numResults=100))


def test_an_action_is_held_back_for_its_repeat_frequency_after_the_user_took_it(rt, world):
    assert "a3" not in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u0"))
    assert "a3" in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2"))


def test_repeat_frequency_window_ends_with_the_clock(rt, world):
    clock.set_time(world["now"] + 26 * DAY)  # 31 days after u0 took a3
    try:
        assert "a3" in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u0"))
    finally:
        clock.reset()


def test_scores_are_0_before_the_data_gate(rt, world):
    answer = rt.get_action_recommendations(campaignArn=world["gated"]["plain"], userId="u2")
    assert answer["actionList"] and all(a["score"] == 0.0 for a in answer["actionList"])
    # Without personalization the order is by VALUE (ties by value, guide L7420): a0 5.0, a3 3.0, a4 2.0
    assert _actions(answer)[:3] == ["a0", "a3", "a4"]


def test_actions_added_by_exploration_score_0(rt, world):
    explored = rt.get_action_recommendations(campaignArn=world["main"]["explore"], userId="u2")["actionList"]
    plain = rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2")["actionList"]
    # weight 1: every place goes to the pool (actions younger than 7 days: a4 only), scored 0.0
    assert {"actionId": "a4", "score": 0.0} in explored
    assert [a for a in plain if a["actionId"] == "a4"][0]["score"] > 0


def test_a_filter_on_action_id_applies(rt, world):
    p = boto3.client("personalize")
    arn = p.create_filter(name="no-a0", datasetGroupArn=world["main"]["group"],
                          filterExpression='EXCLUDE ActionID WHERE Actions.ACTION_ID IN ("a0")')["filterArn"]
    wait_for(lambda: p.describe_filter(filterArn=arn), "filter")
    answer = rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2", filterArn=arn)
    assert "a0" not in _actions(answer) and _actions(answer)


def test_an_item_filter_is_refused(rt, world):
    p = boto3.client("personalize")
    arn = p.create_filter(name="items", datasetGroupArn=world["main"]["group"],
                          filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')["filterArn"]
    wait_for(lambda: p.describe_filter(filterArn=arn), "filter")
    with pytest.raises(ClientError) as err:
        rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2", filterArn=arn)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_put_action_interactions_change_the_next_answer(rt, world):
    p = boto3.client("personalize")
    ds = [d for d in p.list_datasets(datasetGroupArn=world["main"]["group"])["datasets"]
          if d["datasetType"].upper() == "ACTION_INTERACTIONS"][0]
    tracking = p.describe_dataset(datasetArn=ds["datasetArn"])["dataset"]["trackingId"]
    assert "a3" in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u4"))
    boto3.client("personalize-events").put_action_interactions(trackingId=tracking, actionInteractions=[
        {"actionId": "a3", "userId": "u4", "sessionId": "s4", "timestamp": world["now"] - 60, "eventType": "Taken"}])
    assert "a3" not in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u4"))


def _put_actions(world, actions):
    p = boto3.client("personalize")
    arn = [d for d in p.list_datasets(datasetGroupArn=world["main"]["group"])["datasets"]
           if d["datasetType"].upper() == "ACTIONS"][0]["datasetArn"]
    boto3.client("personalize-events").put_actions(datasetArn=arn, actions=[
        {"actionId": action_id, "properties": json.dumps(props)} for action_id, props in actions])


def test_an_action_put_after_training_is_explored_at_once_with_score_0(rt, world):
    _put_actions(world, [("fresh", {"value": 4, "creationTimestamp": world["now"] - 60})])
    explored = rt.get_action_recommendations(campaignArn=world["main"]["explore"], userId="u2")["actionList"]
    assert {"actionId": "fresh", "score": 0.0} in explored            # a new action: exploration's pool
    assert "fresh" not in _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2",
                                                                 numResults=100))   # the model never saw it


def test_an_action_put_with_a_past_expiration_is_no_longer_recommended(rt, world):
    assert _actions(rt.get_action_recommendations(campaignArn=world["main"]["plain"], userId="u2"))[0] == "a0"
    _put_actions(world, [("a0", {"value": 5, "expirationTimestamp": world["now"] - 10,
                                 "creationTimestamp": world["now"] - 20 * DAY})])
    for campaign in ("plain", "explore"):
        assert "a0" not in _actions(rt.get_action_recommendations(campaignArn=world["main"][campaign], userId="u2",
                                                                  numResults=100))
