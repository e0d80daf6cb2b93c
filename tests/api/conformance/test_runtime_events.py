"""Conformance of personalize-runtime (GetRecommendations, GetPersonalizedRanking,
GetActionRecommendations) and personalize-events (PutEvents, PutItems, PutUsers, PutActions,
PutActionInteractions), by operation (one shared world for the module: the custom chain's popularity
campaign, a Personalized-Ranking campaign beside it, and a Next-Best-Action group)."""

from __future__ import annotations

import pytest

from localpersonalize.control import clock

from .harness import Case, cases_test
from .world import interactions_csv, once

OPERATIONS = ["GetRecommendations", "GetPersonalizedRanking", "GetActionRecommendations",
              "PutEvents", "PutItems", "PutUsers", "PutActions", "PutActionInteractions"]

UNREACHABLE = {}


@pytest.fixture
def world(shared_world):
    return shared_world


@once
def ranking_campaign(w) -> str:
    w.import_job
    return w.new_campaign("ranking", w.new_version(w.new_solution("ranking", "aws-personalized-ranking")))


@once
def nba(w) -> dict:
    """A custom group with Interactions, Actions and Action interactions (imported), and a campaign of an
    ACTIVE Next-Best-Action version: {"group", "actions", "action_interactions", "tracking", "campaign"}."""
    out = {"group": w.new_group("nba")}
    interactions = w.new_dataset(out["group"], w.schema, "nba-interactions")
    w.new_import(interactions, "nba-interactions", interactions_csv())
    out["actions"] = w.new_typed_dataset(out["group"], "Actions")
    w.new_import(out["actions"], "nba-actions", b"ACTION_ID,VALUE\na1,1\na2,5\na3,3\n")
    out["action_interactions"] = w.new_typed_dataset(out["group"], "Action_Interactions")
    rows = [f"u{u},a{1 + (u + k) % 3},{'TAKEN' if (u + k) % 3 == u % 3 else 'NOT_TAKEN'},{1_600_000_000 + u * 100 + k}"
            for u in range(30) for k in range(35)]  # an import brings ≥ 1000 records
    w.new_import(out["action_interactions"], "nba-action-interactions",
                 ("USER_ID,ACTION_ID,EVENT_TYPE,TIMESTAMP\n" + "\n".join(rows) + "\n").encode())
    out["tracking"] = w.p.describe_dataset(datasetArn=out["action_interactions"])["dataset"]["trackingId"]
    version = w.new_version(w.new_solution("nba", "aws-next-best-action", group=out["group"]))
    out["campaign"] = w.new_campaign("nba", version)
    return out


@once
def items(w) -> str:
    return w.new_typed_dataset(w.group, "Items")


@once
def users(w) -> str:
    return w.new_typed_dataset(w.group, "Users")


def pending(dataset_type):
    """A dataset of ``dataset_type`` still in CREATE PENDING (stepped pacing from here on)."""
    def make(w):
        group = w.new_group(w.fresh("g"))
        clock.set_pacing("stepped")
        return w.new_typed_dataset(group, dataset_type, wait=False)
    return make


# ----- runtime
def recommend(w, campaign=None, **kw):
    return w.runtime.get_recommendations(campaignArn=campaign or w.campaign, userId="u1", numResults=5, **kw)


def rank(w, campaign=None, **kw):
    return w.runtime.get_personalized_ranking(campaignArn=campaign or ranking_campaign(w), userId="u1",
                                              inputList=["i1", "i2", "i3", "unknown"], **kw)


def act(w, campaign=None, **kw):
    return w.runtime.get_action_recommendations(campaignArn=campaign or nba(w)["campaign"], userId="u1", **kw)


def recommended(r, w):
    assert len(r["itemList"]) == 5 and r["recommendationId"]
    assert all(i["itemId"].startswith("i") for i in r["itemList"])


def ranked(r, w):
    assert sorted(i["itemId"] for i in r["personalizedRanking"]) == ["i1", "i2", "i3", "unknown"]
    assert r["personalizedRanking"][-1] == {"itemId": "unknown", "score": 0.0}


def actions_ranked(r, w):
    assert {a["actionId"] for a in r["actionList"]} <= {"a1", "a2", "a3"} and r["actionList"]
    assert all(0 <= a["score"] <= 1 for a in r["actionList"])


# ----- events
def event(**kw):
    return dict({"eventType": "watch", "itemId": "i3", "sentAt": 1_700_000_000}, **kw)


def put_events(w, tracking=None, **kw):
    return w.events.put_events(trackingId=tracking or w.tracker["trackingId"], userId="u1", sessionId="s1",
                               eventList=kw.pop("eventList", None) or [event()], **kw)


def entity_cases(operation, member, id_key, dataset_type, dataset, other, properties):
    """The cases of one Put<Entities> operation (the three declare the same errors): one entity with
    ``properties`` into ``dataset(w)``; a missing, a CREATE PENDING and an ``other(w)`` (wrong type) dataset."""
    def put_one(w, arn, **entity):
        return getattr(w.events, f"put_{member}")(datasetArn=arn, **{member: [dict({id_key: "x"}, **entity)]})

    return [
        Case(operation, lambda w: put_one(w, dataset(w), **{id_key: "new1", "properties": properties}),
             check=stored(dataset, "new1")),
        Case(operation, lambda w: put_one(w, w.missing("dataset")), raises="ResourceNotFoundException",
             match="The given dataset does not exist"),
        Case(operation, lambda w: put_one(w, pending(dataset_type)(w)), raises="ResourceInUseException",
             match="CREATE PENDING"),
        Case(operation, lambda w: put_one(w, other(w)), raises="InvalidInputException", match=f"not {dataset_type}"),
    ]


def put_action_interactions(w, tracking=None, **kw):
    interaction = {k: v for k, v in dict({"actionId": "a1", "userId": "u1", "sessionId": "s1",
                                          "timestamp": 1_700_000_000, "eventType": "Taken"}, **kw).items()
                   if v is not None}
    return w.events.put_action_interactions(trackingId=tracking or nba(w)["tracking"], actionInteractions=[interaction])


def stored(member_of, id_value):
    """Check: the record is in the dataset's group data (visible at once, spec 40 §3)."""
    def check(r, w):
        from localpersonalize.moto_compat import store_for

        store = store_for("123456789012", "us-east-1")
        dataset = store.get("dataset", member_of(w))
        data = store.get("dataset-group", dataset.parent).extra["data"]
        index = {"ITEMS": data.items, "USERS": data.users, "ACTIONS": data.actions}[dataset.extra["type"]]
        assert index.code(id_value, add=False) >= 0
    return check


CASES = [
    # ----- runtime
    Case("GetRecommendations", recommend, check=recommended),
    Case("GetRecommendations", lambda w: recommend(w, filterArn=w.filter), check=recommended, name="filter"),
    Case("GetRecommendations", lambda w: recommend(w, w.missing("campaign")), raises="InvalidInputException",
         match="does not exist or is not active"),
    Case("GetRecommendations", lambda w: recommend(w, ranking_campaign(w)), raises="InvalidInputException",
         match="not GetRecommendations", name="ranking-campaign"),
    Case("GetRecommendations", lambda w: recommend(w, filterArn=w.missing("filter")), raises="ResourceNotFoundException",
         match="The given filter does not exist"),
    Case("GetPersonalizedRanking", rank, check=ranked),
    Case("GetPersonalizedRanking", lambda w: rank(w, w.missing("campaign")), raises="InvalidInputException",
         match="does not exist or is not active"),
    Case("GetPersonalizedRanking", lambda w: rank(w, w.campaign), raises="InvalidInputException",
         match="not GetPersonalizedRanking", name="popularity-campaign"),
    Case("GetPersonalizedRanking", lambda w: rank(w, filterArn=w.missing("filter")), raises="ResourceNotFoundException",
         match="The given filter does not exist"),
    Case("GetActionRecommendations", act, check=actions_ranked),
    Case("GetActionRecommendations", lambda w: act(w, w.missing("campaign")), raises="InvalidInputException",
         match="does not exist or is not active"),
    Case("GetActionRecommendations", lambda w: act(w, w.campaign), raises="InvalidInputException",
         match="not GetActionRecommendations", name="popularity-campaign"),
    Case("GetActionRecommendations", lambda w: act(w, filterArn=w.missing("filter")), raises="ResourceNotFoundException",
         match="The given filter does not exist"),
    # ----- events
    Case("PutEvents", put_events, check=lambda r, w: r == {"ResponseMetadata": r["ResponseMetadata"]}),
    Case("PutEvents", lambda w: put_events(w, "unknown-tracking-id"), raises="InvalidInputException",
         match="does not exist"),
    Case("PutEvents", lambda w: put_events(w, eventList=[event(properties="{not json")]),
         raises="InvalidInputException", name="properties"),
    Case("PutActionInteractions", put_action_interactions),
    Case("PutActionInteractions", lambda w: put_action_interactions(w, "unknown-tracking-id"),
         raises="ResourceNotFoundException", match="does not exist"),
    Case("PutActionInteractions", lambda w: (lambda arn: put_action_interactions(w, w.p.describe_dataset(
        datasetArn=arn)["dataset"]["trackingId"]))(pending("Action_Interactions")(w)),
         raises="ResourceInUseException", match="is not ACTIVE"),
    Case("PutActionInteractions", lambda w: put_action_interactions(w, userId=None, eventType="Clicked"),
         raises="InvalidInputException", match="Taken, Not Taken or Viewed"),
    *entity_cases("PutItems", "items", "itemId", "Items", items, users, '{"genre": "Comedy", "price": 9.5}'),
    *entity_cases("PutUsers", "users", "userId", "Users", users, items, '{"segment": "gold"}'),
    *entity_cases("PutActions", "actions", "actionId", "Actions", lambda w: nba(w)["actions"], items, '{"value": 4}'),
]

test_conformance = cases_test(CASES)
