"""Event trackers (control plane) and the personalize-events operations: PutEvents, PutItems, PutUsers,
PutActions, PutActionInteractions (spec 40 §2-§5, §7.1; limits of spec 60 §1.6).

Handlers find the tracker or dataset and map each request member to a row with
:mod:`localpersonalize.data.records`; the data layer stores a call's records all at once or not at all,
so a rejected call stores none of them. Streamed events are visible at once to
:meth:`~localpersonalize.data.datasets.DatasetGroupData.user_items` (real-time personalization) and to
training.
"""

from __future__ import annotations

import secrets
import uuid

from ..control import lifecycle
from ..control.arns import dataset_arn
from ..data import records
from ..data.csv_import import ImportFailure
from ..errors import (
    InvalidInputException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from . import metric_attributions, operation
from .common import delete, describe_record, list_children, require_active


# ----- event trackers (control plane)
@operation("CreateEventTracker")
def create_event_tracker(ctx, p):
    """One item-interaction tracker per dataset group (model doc of CreateEventTracker, spec 40 §2.1):
    a second one is refused with ResourceAlreadyExistsException. The ARN ends in 8 hex characters and the
    ``trackingId`` is a UUID; the tracker walks the create chain to ACTIVE."""
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        require_active(group, "dataset group")
        existing = store.all("event-tracker", lambda t: t.parent == group.arn)
        if existing:
            raise ResourceAlreadyExistsException(
                f"Dataset group {group.arn} already has an event tracker: {existing[0].arn}. "
                "Only one event tracker can be associated with a dataset group.")
        arn = store.arn("event-tracker", secrets.token_hex(4))
        record = {"name": p["name"], "eventTrackerArn": arn, "accountId": ctx.account_id,
                  "trackingId": str(uuid.uuid4()), "datasetGroupArn": group.arn}
        res = store.create("event-tracker", arn, record, parent=group.arn, tags=p.get("tags"))
        lifecycle.run_work(res, store, None)
    return {"eventTrackerArn": arn, "trackingId": record["trackingId"]}


@operation("DescribeEventTracker")
def describe_event_tracker(ctx, p):
    return describe_record(ctx, p, "event-tracker", "eventTracker")


@operation("ListEventTrackers")
def list_event_trackers(ctx, p):
    return list_children(ctx, p, "event-tracker", "eventTrackers", "datasetGroupArn")


@operation("DeleteEventTracker")
def delete_event_tracker(ctx, p):
    """``DELETE PENDING -> DELETE IN_PROGRESS`` then gone; the datasets stay (API reference)."""
    store = ctx.store
    with store.lock:
        delete(store, store.get("event-tracker", p["eventTrackerArn"]), "event tracker")
    return {}


# ----- personalize-events
def _tracker_group(ctx, tracking_id: str):
    """The dataset group (a Resource; its rows are ``extra["data"]``) behind an ACTIVE item-interaction
    tracker. PutEvents declares only InvalidInputException, so an unknown or not yet ACTIVE tracking ID
    gets it (spec 40 §3)."""
    store = ctx.store
    with store.lock:
        found = store.all("event-tracker", lambda t: t.record.get("trackingId") == tracking_id)
        if not found:
            raise InvalidInputException(f"The tracking ID {tracking_id} does not exist.")
        tracker = found[0]
        if tracker.status != lifecycle.ACTIVE:
            raise InvalidInputException(f"The event tracker {tracker.arn} is not ACTIVE yet "
                                        f"(status: {tracker.status}); wait before sending events.")
        return store.get("dataset-group", tracker.parent)


def _store(dataset, rows, **kwargs) -> None:
    try:
        dataset.put_records(rows, **kwargs)
    except ImportFailure as exc:
        raise InvalidInputException(exc.reason) from None


def _rows(build, members) -> list:
    try:
        return [build(m, k + 1) for k, m in enumerate(members)]
    except ImportFailure as exc:
        raise InvalidInputException(exc.reason) from None


@operation("PutEvents")
def put_events(ctx, p):
    """Append 1-10 events to the group's Interactions dataset (spec 40 §3): ``sentAt`` → TIMESTAMP,
    ``properties`` by camelCase key; anonymous events (no ``userId``) are kept under ``sessionId`` and
    merged into the user once an event carries both. All or nothing."""
    group = _tracker_group(ctx, p["trackingId"])
    dataset = group.extra["data"].dataset("INTERACTIONS")
    if dataset is None:
        raise InvalidInputException("The dataset group has no Interactions dataset: create one (it may stay "
                                    "empty) before recording events.")
    res = ctx.store.find(dataset_arn(group.arn, "INTERACTIONS"))
    if res is not None and res.status != lifecycle.ACTIVE:  # as Put* records: not while created or deleted
        raise InvalidInputException(f"The Interactions dataset {res.arn} is not ACTIVE (status: {res.status}); "
                                    f"events can be recorded once it is.")
    user_id = p.get("userId")
    rows = _rows(lambda e, k: records.event_record(e, user_id, dataset.schema, k), p["eventList"])
    _store(dataset, rows, sessions=[p["sessionId"]] * len(rows), event_ids=[e.get("eventId") for e in p["eventList"]])
    metric_attributions.record_events(ctx, group.arn, rows, p["eventList"])
    return {}


def _dataset_for(ctx, arn: str, dataset_type: str):
    """The rows of the dataset at ``arn``, which must be of ``dataset_type`` and ACTIVE. Raises
    ResourceNotFoundException (404) / ResourceInUseException (409) / InvalidInputException."""
    store = ctx.store
    with store.lock:
        res = store.find(arn)
        if res is None or res.kind != "dataset":
            raise ResourceNotFoundException(f"The given dataset does not exist: {arn}")
        if res.extra["type"] != dataset_type:
            raise InvalidInputException(f"The dataset {arn} is a {res.record['datasetType']} dataset, not "
                                        f"{dataset_type.title().replace('_', ' ')}.")
        require_active(res, "dataset")
        return store.get("dataset-group", res.parent).extra["data"].dataset(dataset_type)


def _put_entities(ctx, p, members_key: str, id_member: str, dataset_type: str, id_field: str, kind: str):
    dataset = _dataset_for(ctx, p["datasetArn"], dataset_type)
    rows = _rows(lambda m, k: records.entity_record(id_field, m[id_member], m.get("properties"), dataset.schema,
                                                    k, kind), p[members_key])
    _store(dataset, rows)
    return {}


@operation("PutItems")
def put_items(ctx, p):
    """Upsert 1-10 items by ID; ``properties`` holds the other fields (spec 40 §7.1)."""
    return _put_entities(ctx, p, "items", "itemId", "ITEMS", "ITEM_ID", "Item")


@operation("PutUsers")
def put_users(ctx, p):
    """Upsert 1-10 users by ID; ``properties`` holds the other fields (spec 40 §7.1)."""
    return _put_entities(ctx, p, "users", "userId", "USERS", "USER_ID", "User")


@operation("PutActions")
def put_actions(ctx, p):
    """Upsert 1-10 actions by ID; ``properties`` holds the other fields (spec 40 §7.1)."""
    return _put_entities(ctx, p, "actions", "actionId", "ACTIONS", "ACTION_ID", "Action")


@operation("PutActionInteractions")
def put_action_interactions(ctx, p):
    """Append 1-10 action interactions through the tracker created with the Action interactions dataset
    (its ``trackingId`` is on DescribeDataset; spec 40 §2.2, §4). An unknown tracking ID is
    ResourceNotFoundException (404), a dataset not ACTIVE ResourceInUseException (409)."""
    store = ctx.store
    with store.lock:
        found = store.all("dataset", lambda d: d.record.get("trackingId") == p["trackingId"])
        if not found:
            raise ResourceNotFoundException(f"The tracking ID {p['trackingId']} does not exist.")
        res = found[0]
        if res.status != lifecycle.ACTIVE:
            raise ResourceInUseException(f"The dataset {res.arn} is not ACTIVE (status: {res.status}).")
        dataset = store.get("dataset-group", res.parent).extra["data"].dataset("ACTION_INTERACTIONS")
    members = p["actionInteractions"]
    rows = _rows(lambda m, k: records.action_interaction_record(m, dataset.schema, k), members)
    _store(dataset, rows, sessions=[m["sessionId"] for m in members], event_ids=[m.get("eventId") for m in members])
    return {}
