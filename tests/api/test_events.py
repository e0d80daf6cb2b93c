"""Event trackers and personalize-events through real boto3 clients (spec 40 §2-§5, §7.1; spec 60 §1.6)."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError

from ..helpers import wait_for

ROLE = "arn:aws:iam::123456789012:role/r"


def schema_json(name, fields):
    return json.dumps({"type": "record", "name": name, "namespace": "com.amazonaws.personalize.schema",
                       "fields": fields, "version": "1.0"})


INTERACTIONS = schema_json("Interactions", [
    {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
    {"name": "EVENT_VALUE", "type": ["null", "float"]}, {"name": "IMPRESSION", "type": ["null", "string"]},
    {"name": "RECOMMENDATION_ID", "type": ["null", "string"]},
    {"name": "NUM_RATINGS", "type": ["null", "int"]}])
ITEMS = schema_json("Items", [{"name": "ITEM_ID", "type": "string"},
                              {"name": "GENRES", "type": ["null", "string"], "categorical": True},
                              {"name": "PRICE", "type": "float"}])
ACTION_INTERACTIONS = schema_json("ActionInteractions", [
    {"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
    {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}])


def make_group(p, datasets):
    """An ACTIVE dataset group ``g`` with an ACTIVE dataset per ``(datasetType, schema JSON)`` of
    ``datasets``: ``(group ARN, {datasetType: dataset ARN})``."""
    group = p.create_dataset_group(name="g")["datasetGroupArn"]
    wait_for(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    ids = {}
    for dtype, body in datasets:
        schema = p.create_schema(name=f"s-{dtype}", schema=body)["schemaArn"]
        ids[dtype] = p.create_dataset(name=f"d-{dtype}", schemaArn=schema, datasetGroupArn=group,
                                      datasetType=dtype)["datasetArn"]
        wait_for(lambda: p.describe_dataset(datasetArn=ids[dtype]), "dataset")
    return group, ids


@pytest.fixture
def world(personalize_mock):
    """A dataset group with Interactions and Items datasets and an ACTIVE event tracker."""
    p = boto3.client("personalize")
    group, ids = make_group(p, (("Interactions", INTERACTIONS), ("Items", ITEMS)))
    tracker = p.create_event_tracker(name="tracker", datasetGroupArn=group)
    wait_for(lambda: p.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    from localpersonalize.moto_compat import store_for
    data = store_for("123456789012", "us-east-1").get("dataset-group", group).extra["data"]
    return {"p": p, "events": boto3.client("personalize-events"), "group": group, "tracker": tracker,
            "data": data, **ids}


def error(call, **kw):
    with pytest.raises(ClientError) as err:
        call(**kw)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"], \
        err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def items_of(world, user):
    data = world["data"]
    return [data.items.ids[c] for c in data.user_items(user)]


def test_event_tracker_lifecycle_and_shape(world):
    p, tracker = world["p"], world["tracker"]
    assert re.fullmatch(r"arn:aws:personalize:us-east-1:123456789012:event-tracker/[0-9a-f]{8}",
                        tracker["eventTrackerArn"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", tracker["trackingId"])
    found = p.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"]
    assert found["status"] == "ACTIVE" and found["accountId"] == "123456789012"
    assert found["datasetGroupArn"] == world["group"] and found["name"] == "tracker"
    listed = p.list_event_trackers(datasetGroupArn=world["group"])["eventTrackers"]
    assert [t["eventTrackerArn"] for t in listed] == [tracker["eventTrackerArn"]]


def test_only_one_event_tracker_per_dataset_group(world):
    code, message, _ = error(world["p"].create_event_tracker, name="second", datasetGroupArn=world["group"])
    assert code == "ResourceAlreadyExistsException" and "one event tracker" in message


def test_put_events_into_an_interactions_dataset_being_deleted_is_refused_and_stores_nothing(world):
    from localpersonalize.control import clock

    clock.set_pacing("stepped")
    world["p"].delete_dataset(datasetArn=world["Interactions"])
    code, message, _ = error(world["events"].put_events, trackingId=world["tracker"]["trackingId"], userId="u",
                             sessionId="s", eventList=[{"eventType": "click", "sentAt": 1, "itemId": "i"}])
    assert code == "InvalidInputException" and "is not ACTIVE (status: DELETE PENDING)" in message
    assert world["data"].dataset("INTERACTIONS").n_rows == 0


def test_delete_event_tracker_keeps_the_datasets(world):
    p = world["p"]
    p.delete_event_tracker(eventTrackerArn=world["tracker"]["eventTrackerArn"])
    assert p.list_event_trackers(datasetGroupArn=world["group"])["eventTrackers"] == []
    assert p.describe_dataset(datasetArn=world["Interactions"])["dataset"]["status"] == "ACTIVE"
    code, _, _ = error(world["events"].put_events, trackingId=world["tracker"]["trackingId"], sessionId="s",
                       eventList=[{"eventType": "click", "sentAt": 1, "itemId": "i"}])
    assert code == "InvalidInputException"


def test_put_events_guide_example_is_stored_and_visible_at_once(world):
    # the guide's Python sample: properties as a JSON string with camelCase keys (L15218)
    world["events"].put_events(trackingId=world["tracker"]["trackingId"], userId="USER_ID", sessionId="session_id",
                               eventList=[{"eventId": "event1", "sentAt": 1553631760, "eventType": "rating",
                                           "properties": json.dumps({"itemId": "ITEM_ID", "eventValue": 4,
                                                                     "numRatings": 13})}])
    ds = world["data"].dataset("INTERACTIONS")
    assert ds.column("EVENT_TYPE").tolist() == ["rating"] and ds.column("NUM_RATINGS").tolist() == [13]
    assert ds.column("EVENT_VALUE").tolist() == [4.0] and ds.column("TIMESTAMP").tolist() == [1553631760]
    assert items_of(world, "USER_ID") == ["ITEM_ID"]


def test_impressions_and_recommendation_id_are_kept(world):
    world["events"].put_events(trackingId=world["tracker"]["trackingId"], userId="u", sessionId="s",
                               eventList=[{"sentAt": 10, "eventType": "click", "itemId": "73",
                                           "impression": ["73", "70", "17", "95", "96"],
                                           "recommendationId": "RID-12345678-1234-1234-1234-abcdefghijkl"}])
    ds = world["data"].dataset("INTERACTIONS")
    assert ds.column("IMPRESSION").tolist() == ["73|70|17|95|96"]
    assert ds.column("RECOMMENDATION_ID").tolist() == ["RID-12345678-1234-1234-1234-abcdefghijkl"]


def test_anonymous_session_history_is_merged_into_the_user(world):
    ev, tid = world["events"], world["tracker"]["trackingId"]
    ev.put_events(trackingId=tid, sessionId="visit-1", eventList=[
        {"sentAt": 1, "eventType": "click", "itemId": "a"}, {"sentAt": 2, "eventType": "click", "itemId": "b"}])
    assert items_of(world, "visit-1") == ["a", "b"]  # real-time for the anonymous visitor, by sessionId
    ev.put_events(trackingId=tid, sessionId="visit-1", userId="bob",
                  eventList=[{"sentAt": 3, "eventType": "click", "itemId": "c"}])
    assert items_of(world, "bob") == ["a", "b", "c"]


def test_rejected_put_events_call_stores_none_of_its_events(world):
    ev, tid = world["events"], world["tracker"]["trackingId"]
    code, message, status = error(ev.put_events, trackingId=tid, userId="u", sessionId="s", eventList=[
        {"sentAt": 1, "eventType": "click", "itemId": "ok"},
        {"sentAt": 2, "eventType": "click", "itemId": "x", "properties": '{"userId": "other"}'}])
    assert (code, status) == ("InvalidInputException", 400) and "Event 2" in message and "userId" in message
    assert world["data"].dataset("INTERACTIONS").n_rows == 0


@pytest.mark.parametrize("event, words", [
    ({"sentAt": 1, "eventType": "click"}, "itemId is required"),
    ({"sentAt": 1, "eventType": "click", "itemId": "i", "properties": '{"numRatings": 0"}'}, "not valid JSON"),
    ({"sentAt": 1, "eventType": "click", "itemId": "i", "properties": json.dumps(json.dumps({"numRatings": 1}))},
     "encoded twice"),
    ({"sentAt": 1, "eventType": "click", "itemId": "i", "properties": '{"eventValue": "true"}'}, "EVENT_VALUE"),
    ({"sentAt": 1, "eventType": "click", "itemId": "i", "properties": '{"color": "red"}'}, "matches no field"),
    ({"sentAt": 1, "eventType": "click", "itemId": "i" * 10, "impression": ["x" * 256] * 4}, "IMPRESSION"),
])
def test_bad_events_are_refused_with_the_rule(world, event, words):
    code, message, _ = error(world["events"].put_events, trackingId=world["tracker"]["trackingId"],
                             userId="u", sessionId="s", eventList=[event])
    assert code == "InvalidInputException" and words in message


def test_a_blank_user_id_is_refused_not_read_as_an_anonymous_event(world):
    """Values are read without the blanks around them, so a userId of blanks only would silently become an
    anonymous event: it is refused instead, and nothing is stored."""
    code, message, _ = error(world["events"].put_events, trackingId=world["tracker"]["trackingId"], userId=" \t",
                             sessionId="s", eventList=[{"sentAt": 1, "eventType": "click", "itemId": "i"}])
    assert code == "InvalidInputException" and "userId" in message and "blank" in message
    assert world["data"].dataset("INTERACTIONS").n_rows == 0


def test_put_events_limits_from_the_model(world):
    ev, tid = world["events"], world["tracker"]["trackingId"]
    code, _, _ = error(ev.put_events, trackingId=tid, sessionId="s",
                       eventList=[{"sentAt": 1, "eventType": "c", "itemId": str(k)} for k in range(11)])
    assert code == "ValidationException"
    code, _, _ = error(ev.put_events, trackingId=tid, sessionId="s",
                       eventList=[{"sentAt": 1, "eventType": "c", "itemId": "i", "recommendationId": "r" * 41}])
    assert code == "ValidationException"


def test_unknown_tracking_id_is_invalid_input(world):
    code, message, _ = error(world["events"].put_events, trackingId="00000000-0000-0000-0000-000000000000",
                             sessionId="s", eventList=[{"sentAt": 1, "eventType": "c", "itemId": "i"}])
    assert code == "InvalidInputException" and "does not exist" in message


def test_put_items_upserts_by_id_and_validates_against_the_schema(world):
    ev = world["events"]
    ev.put_items(datasetArn=world["Items"], items=[
        {"itemId": "i1", "properties": json.dumps({"genres": "Horror|Action", "price": 9.5})},
        {"itemId": "i2", "properties": json.dumps({"price": "3"})}])
    ev.put_items(datasetArn=world["Items"], items=[{"itemId": "i1", "properties": '{"price": 1}'}])
    ds = world["data"].dataset("ITEMS")
    assert ds.column("ITEM_ID").tolist() == ["i1", "i2"] and ds.column("PRICE").tolist() == [1.0, 3.0]
    code, message, _ = error(ev.put_items, datasetArn=world["Items"], items=[
        {"itemId": "i3", "properties": '{"price": 2}'}, {"itemId": "i4", "properties": '{"genres": "x"}'}])
    assert code == "InvalidInputException" and "PRICE" in message and "record 2" in message
    assert ds.n_rows == 2


def test_put_items_into_an_unknown_or_wrong_dataset(world):
    ev = world["events"]
    code, _, status = error(ev.put_items, datasetArn=world["Items"].replace("/ITEMS", "/USERS"),
                            items=[{"itemId": "i"}])
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, message, _ = error(ev.put_users, datasetArn=world["Items"], users=[{"userId": "u"}])
    assert code == "InvalidInputException" and "not Users" in message


def test_put_action_interactions_through_the_datasets_tracking_id(personalize_mock):
    p = boto3.client("personalize")
    group = p.create_dataset_group(name="nba")["datasetGroupArn"]
    wait_for(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    schema = p.create_schema(name="ai", schema=ACTION_INTERACTIONS)["schemaArn"]
    arn = p.create_dataset(name="ai", schemaArn=schema, datasetGroupArn=group,
                           datasetType="Action_Interactions")["datasetArn"]
    tracking = wait_for(lambda: p.describe_dataset(datasetArn=arn), "dataset")["trackingId"]
    ev = boto3.client("personalize-events")
    ev.put_action_interactions(trackingId=tracking, actionInteractions=[
        {"actionId": "a1", "userId": "u", "sessionId": "s", "timestamp": 5, "eventType": "Taken"},
        {"actionId": "a2", "userId": "u", "sessionId": "s", "timestamp": 6, "eventType": "Not Taken"}])
    code, message, _ = error(ev.put_action_interactions, trackingId=tracking, actionInteractions=[
        {"actionId": "a3", "sessionId": "s", "timestamp": 7, "eventType": "Clicked"}])
    assert code == "InvalidInputException" and "Taken, Not Taken or Viewed" in message
    code, _, status = error(ev.put_action_interactions, trackingId="nope", actionInteractions=[
        {"actionId": "a3", "sessionId": "s", "timestamp": 7, "eventType": "Viewed"}])
    assert (code, status) == ("ResourceNotFoundException", 404)
