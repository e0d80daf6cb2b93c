"""The exploration pool is the catalogue of the data now (control/serving._draw_table): an item whose every
row is gone (its only users deleted by a data deletion job, or left out of a FULL re-import) is no longer
explored, as it is no longer recommended (spec 40 §11.3); items of the Items dataset without interactions are."""

import json

from localpersonalize.control import serving
from localpersonalize.data.csv_import import parse_csv
from localpersonalize.data.datasets import DatasetGroupData
from localpersonalize.data.schemas import parse_schema
from localpersonalize.engine.exploration import ExplorationConfig


def schema(name, *fields):
    return parse_schema(json.dumps({"type": "record", "name": name, "fields": [
        {"name": f, "type": "long" if f.endswith("TIMESTAMP") or f == "PRICE" else "string"} for f in fields]}))


INTERACTIONS = schema("Interactions", "USER_ID", "ITEM_ID", "TIMESTAMP")
ITEMS = schema("Items", "ITEM_ID", "PRICE", "CREATION_TIMESTAMP")


def pool(data):
    table = serving._draw_table(data, data.dataset("INTERACTIONS"), ExplorationConfig(1.0, 10_000))
    return sorted(data.items.ids[c] for c in table.in_pool[0].nonzero()[0].tolist())


def test_the_pool_holds_the_items_of_the_data_now():
    data = DatasetGroupData()
    ds = data.create_dataset("INTERACTIONS", INTERACTIONS)
    ds.import_bulk(parse_csv(b"USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\nu1,b,2\nu2,c,3\nu3,d,4\n", INTERACTIONS))
    data.create_dataset("ITEMS", ITEMS).import_bulk(parse_csv(b"ITEM_ID,PRICE,CREATION_TIMESTAMP\na,1,1\nnew,1,4\n", ITEMS))
    assert pool(data) == ["a", "b", "c", "d", "new"]
    data.delete_users(["u2"])                       # c's only user: c has no row left
    assert pool(data) == ["a", "b", "d", "new"]
    ds.import_bulk(parse_csv(b"USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\nu1,b,2\n", INTERACTIONS), "FULL")
    assert pool(data) == ["a", "b", "new"]          # d is left out of the new bulk data
