"""Conformance of event trackers, by operation (one shared world for the module)."""

from __future__ import annotations

import re

import pytest

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN, TAGS51

OPERATIONS = ["CreateEventTracker", "DescribeEventTracker", "ListEventTrackers", "DeleteEventTracker"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in ("DescribeEventTracker", "DeleteEventTracker")},
    ("ListEventTrackers", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    ("CreateEventTracker", "LimitExceededException"): "one item-interaction tracker per dataset group (spec 60 "
                                                      "§3.1, guide L14821): a second one is "
                                                      "ResourceAlreadyExistsException; no other quota counts them",
}


@pytest.fixture
def world(shared_world):
    return shared_world


def create(w, group=None, **kw):
    return w.p.create_event_tracker(name=w.fresh("t"), datasetGroupArn=group or w.new_group(w.fresh("g")), **kw)


def pending_group(w):
    """A dataset group still in CREATE PENDING (stepped pacing from here on)."""
    clock.set_pacing("stepped")
    return w.p.create_dataset_group(name=w.fresh("pending"))["datasetGroupArn"]


def pending_tracker(w) -> str:
    """A tracker still in CREATE PENDING (of an ACTIVE group; stepped pacing from here on)."""
    group = w.new_group(w.fresh("g"))
    clock.set_pacing("stepped")
    return create(w, group)["eventTrackerArn"]


def created(r, w):
    assert re.fullmatch(r"arn:aws:personalize:us-east-1:123456789012:event-tracker/[0-9a-f]{8}", r["eventTrackerArn"])
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", r["trackingId"])


def delete_new(w):
    """Delete a new ACTIVE tracker; returns its ARN."""
    arn = create(w)["eventTrackerArn"]
    w.p.delete_event_tracker(eventTrackerArn=arn)
    return arn


def gone(arn, w):
    assert arn not in [t["eventTrackerArn"] for t in w.p.list_event_trackers()["eventTrackers"]]


CASES = [
    Case("CreateEventTracker", lambda w: create(w), check=created),
    Case("CreateEventTracker", lambda w: (w.tracker, create(w, w.group)), raises="ResourceAlreadyExistsException",
         match="Only one event tracker"),
    Case("CreateEventTracker", lambda w: create(w, w.missing("dataset-group")), raises="ResourceNotFoundException",
         match="The given dataset group does not exist"),
    Case("CreateEventTracker", lambda w: create(w, pending_group(w)), raises="ResourceInUseException",
         match="CREATE PENDING"),
    Case("CreateEventTracker", lambda w: create(w, tags=[{"tagKey": "aws:owner", "tagValue": "x"}]),
         raises="InvalidInputException", match="aws:"),
    Case("CreateEventTracker", lambda w: create(w, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeEventTracker", lambda w: w.p.describe_event_tracker(eventTrackerArn=w.tracker["eventTrackerArn"]),
         check=lambda r, w: r["eventTracker"]["status"] == "ACTIVE" and r["eventTracker"]["datasetGroupArn"] == w.group
         and r["eventTracker"]["trackingId"] == w.tracker["trackingId"] and r["eventTracker"]["accountId"] == "123456789012"),
    Case("DescribeEventTracker", lambda w: w.p.describe_event_tracker(eventTrackerArn=w.missing("event-tracker", "0badf00d")),
         raises="ResourceNotFoundException", match="The given event tracker does not exist"),
    Case("ListEventTrackers", lambda w: (w.tracker, w.p.list_event_trackers(datasetGroupArn=w.group)),
         check=lambda r, w: [t["eventTrackerArn"] for t in r[1]["eventTrackers"]] == [w.tracker["eventTrackerArn"]]
         and r[1]["eventTrackers"][0]["status"] == "ACTIVE"),
    Case("ListEventTrackers", lambda w: w.p.list_event_trackers(nextToken="forged"), raises="InvalidNextTokenException"),
    Case("DeleteEventTracker", delete_new, check=gone),
    Case("DeleteEventTracker", lambda w: w.p.delete_event_tracker(eventTrackerArn=w.missing("event-tracker", "0badf00d")),
         raises="ResourceNotFoundException"),
    Case("DeleteEventTracker", lambda w: w.p.delete_event_tracker(eventTrackerArn=pending_tracker(w)),
         raises="ResourceInUseException", match="CREATE PENDING"),
]

test_conformance = cases_test(CASES)
