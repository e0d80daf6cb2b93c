"""A small catalogue for the filter tests: every dataset type, the fields the guide's examples use."""

from __future__ import annotations

import json

import pytest

from localpersonalize.data.datasets import DatasetGroupData
from localpersonalize.data.schemas import parse_schema


def _schema(name, fields):
    return parse_schema(json.dumps({"type": "record", "name": name, "namespace": "com.amazonaws.personalize.schema",
                                    "fields": fields, "version": "1.0"}))


def _cat(name, nullable=False):
    return {"name": name, "type": ["null", "string"] if nullable else "string", "categorical": True}


ITEMS = [
    # ITEM_ID  GENRE     PRICE CREATED CATEGORY       L1       L2         OWNER       AVAILABLE DOWNLOADS GENRES
    ("i1", "Comedy", 10.0, 100, "clothing", "shoe", "boot", "in-house", "True", 300, "Comedy|Drama"),
    ("i2", "Drama", 20.0, 200, "clothing", "shoe", "sneaker", "partner", "False", 100, "Drama"),
    ("i3", "Horror", 30.0, 300, "electronics", "watch", "luxury", "in-house", "True", 500, "Horror"),
    ("i4", "Comedy", 40.0, 400, "toys", "shoe", None, "partner", "True", 50, "Comedy|Horror"),
    ("i5", "Drama", 50.0, 500, "electronics", "watch", "sport", "in-house", "False", 250, None),
]
#: i6 has interactions but no Items row.
ALL_ITEMS = ("i1", "i2", "i3", "i4", "i5", "i6")
USERS = [("u1", 30, "gold", "Premium"), ("u2", 16, "silver", "Basic")]  # u3 has no Users row
INTERACTIONS = [  # USER_ID ITEM_ID TIMESTAMP EVENT_TYPE
    ("u1", "i1", 1, "click"), ("u1", "i2", 2, "stream"), ("u1", "i3", 3, "favorite"), ("u1", "i4", 4, "Rating"),
    ("u2", "i5", 5, "click"), ("u2", "i1", 6, "rating"), ("u3", "i6", 7, "purchased"),
]
ACTIONS = [("a1", "loyalty", 10, "Premium"), ("a2", "discount", 5, "Basic"), ("a3", "loyalty", 1, "Premium")]
ACTION_INTERACTIONS = [("u1", "a1", 1, "TAKEN"), ("u1", "a2", 2, "NOT_TAKEN"), ("u2", "a3", 3, "TAKEN")]


def build_catalogue() -> DatasetGroupData:
    """A custom dataset group with Items, Users, Interactions, Actions and Action_Interactions rows."""
    data = DatasetGroupData()
    # Items and Users first, so item codes are i1..i5 = 0..4 and user codes u1, u2 = 0, 1.
    items = data.create_dataset("ITEMS", _schema("Items", [
        {"name": "ITEM_ID", "type": "string"}, _cat("GENRE"), {"name": "PRICE", "type": "float"},
        {"name": "CREATION_TIMESTAMP", "type": "long"}, _cat("CATEGORY"), _cat("CATEGORY_L1"),
        _cat("CATEGORY_L2", nullable=True), _cat("OWNER"), _cat("AVAILABLE"),
        {"name": "DOWNLOAD_COUNT", "type": "int"}, _cat("GENRES", nullable=True),
        {"name": "DESCRIPTION", "type": ["null", "string"], "textual": True},
        {"name": "IS_NEW", "type": "boolean"}]))
    names = ("ITEM_ID", "GENRE", "PRICE", "CREATION_TIMESTAMP", "CATEGORY", "CATEGORY_L1", "CATEGORY_L2", "OWNER",
             "AVAILABLE", "DOWNLOAD_COUNT", "GENRES")
    items.put_records([dict(zip(names, row), DESCRIPTION="text", IS_NEW=False) for row in ITEMS])
    users = data.create_dataset("USERS", _schema("Users", [
        {"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": "int"}, _cat("MEMBERSHIP_STATUS"),
        _cat("MEMBERSHIP")]))
    users.put_records([dict(zip(("USER_ID", "AGE", "MEMBERSHIP_STATUS", "MEMBERSHIP"), r)) for r in USERS])
    inter = data.create_dataset("INTERACTIONS", _schema("Interactions", [
        {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}]))
    inter.put_records([dict(zip(("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"), r)) for r in INTERACTIONS])
    actions = data.create_dataset("ACTIONS", _schema("Actions", [
        {"name": "ACTION_ID", "type": "string"}, _cat("CATEGORY"), {"name": "VALUE", "type": ["null", "long"]},
        _cat("MEMBERSHIP_LEVEL"), {"name": "REPEAT_FREQUENCY", "type": ["null", "long"]}]))
    actions.put_records([dict(zip(("ACTION_ID", "CATEGORY", "VALUE", "MEMBERSHIP_LEVEL"), r), REPEAT_FREQUENCY=None)
                         for r in ACTIONS])
    action_inter = data.create_dataset("ACTION_INTERACTIONS", _schema("ActionInteractions", [
        {"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}]))
    action_inter.put_records([dict(zip(("USER_ID", "ACTION_ID", "TIMESTAMP", "EVENT_TYPE"), r))
                              for r in ACTION_INTERACTIONS])
    return data


@pytest.fixture
def catalogue() -> DatasetGroupData:
    return build_catalogue()
