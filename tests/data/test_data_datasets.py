"""Columnar dataset storage: shared ID codes, FULL vs INCREMENTAL, Put*, atomicity, event filters."""
import json
import threading

import numpy as np
import pytest

from localpersonalize.data.csv_import import DecimalIds, ImportFailure, parse_csv
from localpersonalize.data.datasets import BULK, STREAM, DatasetGroupData, IdIndex
from localpersonalize.data.schemas import parse_schema


def schema(name, *fields):
    return parse_schema(json.dumps({"type": "record", "name": name, "fields": list(fields)}))


def f(name, type_, **kw):
    return {"name": name, "type": type_, **kw}


INTERACTIONS = schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
                      f("EVENT_TYPE", "string"), f("EVENT_VALUE", ["null", "float"]))
ITEMS = schema("Items", f("ITEM_ID", "string"), f("GENRES", ["null", "string"], categorical=True),
               f("PRICE", ["null", "double"]))


def icsv(*rows):
    return ("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n" + "".join(r + "\n" for r in rows)).encode()


@pytest.fixture
def group():
    g = DatasetGroupData()
    g.create_dataset("Interactions", INTERACTIONS)
    g.create_dataset("ITEMS", ITEMS)
    return g


def test_id_index_interning():
    ix = IdIndex()
    assert ix.codes(["a", "b", "a", None]).tolist() == [0, 1, 0, -1]
    assert ix.codes(["c", "z"], add=False).tolist() == [-1, -1]
    assert ix.code("c") == 2 and ix.ids == ["a", "b", "c"] and len(ix) == 3
    assert ix.lookup(np.array([2, -1, 0])).tolist() == ["c", None, "a"]


def test_id_index_interns_a_column_into_a_fresh_index_in_order():
    col = parse_csv(icsv("u9,x,1,click,", "u3,y,2,click,", "u9,x,3,click,"), INTERACTIONS).columns["USER_ID"]
    fresh = IdIndex()
    assert fresh.intern(col).tolist() == [0, 1, 0] and fresh.ids == ["u9", "u3"]  # codes as parsed, no copy
    assert fresh.intern(col) is col.codes
    older = IdIndex(["u3"])
    assert older.intern(col).tolist() == [1, 0, 1] and older.ids == ["u3", "u9"]
    fresh.ids.append("not in the column's dictionary")
    assert col.dictionary == ["u9", "u3"]
    fresh.code("42")
    assert "42" in fresh and "42" not in col.positions  # the index copied the column's map


def test_the_groups_id_indexes_look_ids_up_without_their_blanks(group):
    """Imports and Put* calls store IDs without the blanks around them; the group's user/item/action indexes
    look a request's IDs up the same way (``" 7"`` is user ``7``), other dictionaries take values as given."""
    group.dataset("INTERACTIONS").import_bulk(parse_csv(icsv(" 7 ,x,1,click,", "u2,y,2,click,"), INTERACTIONS))
    users = group.users
    assert users.ids == ["7", "u2"] and users.code(" 7\t", add=False) == users.code("7") == 0
    assert users.codes(["u2 ", " ", None], add=False).tolist() == [1, -1, -1] and " u2" in users
    assert users.code(" u3 ") == 2 and users.ids[2] == "u3"
    assert IdIndex().code(" 7") == 0 and " 7" not in IdIndex(["7"])


def test_id_index_keeps_the_numeric_ids_of_a_fresh_import_as_numbers():
    """Numeric IDs imported into a fresh index stay an int64 array (codes in numeric order); their text is
    made when read, and looking them up by text, adding others and pinned readers work as for strings."""
    col = parse_csv(icsv("9,x,1,click,", "3,y,2,click,", "9,x,3,click,"), INTERACTIONS).columns["USER_ID"]
    assert isinstance(col.dictionary, DecimalIds) and col.dictionary == ["3", "9"]
    ix = IdIndex()
    assert ix.intern(col) is col.codes and col.codes.tolist() == [1, 0, 1]
    assert ix.ids == ["3", "9"] and ix.ids[1] == "9" and len(ix) == 2
    assert "9" in ix and "09" not in ix and 9 not in ix
    assert ix.codes(["9", "3", "09", None], add=False).tolist() == [1, 0, -1, -1]
    assert ix.code("09") == 2 and ix.code("u1") == 3 and ix.code("3") == 0
    assert ix.ids == ["3", "9", "09", "u1"] and ix.ids[-1] == "u1" and ix.ids[1:3] == ["9", "09"]
    assert ix.lookup(np.array([3, -1, 1])).tolist() == ["u1", None, "9"]
    again = parse_csv(icsv("9,x,1,click,", "12,y,2,click,"), INTERACTIONS).columns["USER_ID"]
    assert ix.intern(again).tolist() == [1, 4] and ix.ids[4] == "12"


def test_one_dataset_per_type(group):
    with pytest.raises(ValueError, match="already has a INTERACTIONS"):
        group.create_dataset("interactions", INTERACTIONS)
    assert group.dataset("Interactions") is group.datasets["INTERACTIONS"]
    group.delete_dataset("interactions")
    assert group.dataset("INTERACTIONS") is None


def test_items_and_interactions_share_item_codes(group):
    inter, items = group.dataset("INTERACTIONS"), group.dataset("ITEMS")
    inter.import_bulk(parse_csv(icsv("u1,i1,1,click,", "u2,i2,2,click,"), INTERACTIONS))
    items.import_bulk(parse_csv(b"ITEM_ID,GENRES,PRICE\ni2,Drama,9.5\ni3,Comedy|Drama,\n", ITEMS))
    u, i, t = inter.arrays()
    assert group.items.ids == ["i1", "i2", "i3"]
    assert i.tolist() == [0, 1] and u.tolist() == [0, 1] and t.tolist() == [1, 2]
    assert items.codes("ITEM_ID").tolist() == [1, 2]
    assert items.column("ITEM_ID").tolist() == ["i2", "i3"]
    assert items.column("GENRES").tolist() == ["Drama", "Comedy|Drama"]
    assert np.isnan(items.column("PRICE")[1]) and items.null_mask("PRICE").tolist() == [False, True]
    assert u.dtype == np.int32 and i.dtype == np.int32 and t.dtype == np.int64


def test_interactions_full_replaces_bulk_rows_but_keeps_streamed(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_bulk(parse_csv(icsv("u1,i1,1,click,", "u1,i2,2,click,"), INTERACTIONS), "FULL")
    ds.put_records([{"USER_ID": "u9", "ITEM_ID": "i9", "TIMESTAMP": 5, "EVENT_TYPE": "click"}])
    ds.import_bulk(parse_csv(icsv("u2,i3,3,watch,0.5"), INTERACTIONS), "FULL")
    assert ds.n_rows == 2
    assert ds.column("USER_ID").tolist() == ["u9", "u2"]
    assert ds.origin.tolist() == [STREAM, BULK]


def test_a_bulk_import_alone_stores_origin_and_session_as_one_value(group):
    """The rows of one bulk import all have origin BULK and no session: they take the memory of one value
    (read-only stride-0 views); streamed rows appended after them get their own values."""
    ds = group.dataset("INTERACTIONS")
    ds.import_bulk(parse_csv(icsv("u1,i1,1,click,", "u1,i2,2,click,", "u2,i1,3,click,"), INTERACTIONS))
    assert ds.origin.strides == (0,) and ds.sessions.strides == (0,)
    assert ds.origin.tolist() == [BULK] * 3 and ds.sessions.tolist() == [-1] * 3
    assert not ds.origin.flags.writeable
    ds.put_records([{"USER_ID": "u3", "ITEM_ID": "i2", "TIMESTAMP": 4, "EVENT_TYPE": "click"}], sessions=["s1"])
    assert ds.origin.tolist() == [BULK] * 3 + [STREAM]
    assert ds.sessions.tolist() == [-1] * 3 + [group.sessions.code("s1", add=False)]
    assert sorted(group.user_rows("u1").tolist()) == [0, 1] and group.user_rows("u3").tolist() == [3]


def test_interactions_incremental_appends(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_bulk(parse_csv(icsv("u1,i1,1,click,"), INTERACTIONS))
    ds.import_bulk(parse_csv(icsv("u1,i1,1,click,", "u2,i2,2,click,"), INTERACTIONS), "INCREMENTAL")
    assert ds.n_rows == 3
    assert ds.column("TIMESTAMP").tolist() == [1, 1, 2]


def test_items_incremental_upserts_by_id_last_duplicate_wins(group):
    ds = group.dataset("ITEMS")
    ds.import_bulk(parse_csv(b"ITEM_ID,GENRES,PRICE\na,Drama,1\nb,Comedy,2\n", ITEMS))
    ds.import_bulk(parse_csv(b"ITEM_ID,GENRES,PRICE\nb,Horror,3\nc,,4\nb,Horror|Comedy,5\n", ITEMS), "INCREMENTAL")
    assert ds.column("ITEM_ID").tolist() == ["a", "b", "c"]
    assert ds.column("GENRES").tolist() == ["Drama", "Horror|Comedy", None]
    assert ds.column("PRICE").tolist() == [1.0, 5.0, 4.0]
    assert ds.null_mask("GENRES").tolist() == [False, False, True]


def test_items_full_replaces_bulk_rows_keeps_put_items(group):
    ds = group.dataset("ITEMS")
    ds.import_bulk(parse_csv(b"ITEM_ID,GENRES\na,Drama\nb,Comedy\n", ITEMS))
    ds.put_records([{"ITEM_ID": "p", "GENRES": "Kids", "PRICE": 1.5}, {"ITEM_ID": "b", "GENRES": "Put"}])
    assert ds.column("ITEM_ID").tolist() == ["a", "b", "p"]
    assert ds.column("GENRES").tolist() == ["Drama", "Put", "Kids"]
    ds.import_bulk(parse_csv(b"ITEM_ID,GENRES\nz,Doc\n", ITEMS), "FULL")
    # b was last written by PutItems, so it survives together with p
    assert ds.column("ITEM_ID").tolist() == ["b", "p", "z"]
    assert ds.origin.tolist() == [STREAM, STREAM, BULK]


def test_failed_import_leaves_dataset_unchanged(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_bulk(parse_csv(icsv("u1,i1,1,click,"), INTERACTIONS))
    before = {n: ds.codes(n).copy() for n in INTERACTIONS.field_names}
    with pytest.raises(ImportFailure, match="line 3"):
        ds.import_bulk(parse_csv(icsv("u2,i2,2,click,", "u3,i3,notatime,click,"), INTERACTIONS), "FULL")
    with pytest.raises(ImportFailure):
        ds.put_records([{"USER_ID": "u2", "ITEM_ID": "", "TIMESTAMP": 1, "EVENT_TYPE": "x"}])
    with pytest.raises(ValueError, match="importMode"):
        ds.import_bulk(parse_csv(icsv("u2,i2,2,click,"), INTERACTIONS), "PARTIAL")
    assert ds.n_rows == 1
    for n, a in before.items():
        np.testing.assert_array_equal(ds.codes(n), a)


def test_arrays_handed_out_are_not_modified_by_later_writes(group):
    ds = group.dataset("ITEMS")
    ds.import_bulk(parse_csv(b"ITEM_ID,PRICE\na,1\n", ITEMS))
    price = ds.column("PRICE")
    ds.import_bulk(parse_csv(b"ITEM_ID,PRICE\na,2\n", ITEMS), "INCREMENTAL")
    assert price.tolist() == [1.0] and ds.column("PRICE").tolist() == [2.0]


def test_arrays_event_type_and_value_threshold(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_bulk(parse_csv(icsv("u1,i1,1,watch,0.9", "u1,i2,2,watch,0.2", "u2,i1,3,click,",
                                  "u2,i3,4,watch,", "u3,i2,5,click,0.7"), INTERACTIONS))
    u, i, t = ds.arrays(event_type="watch")
    assert t.tolist() == [1, 2, 4]
    u, i, t = ds.arrays(event_type="watch", event_value_threshold=0.5)
    assert t.tolist() == [1]
    assert ds.arrays(event_value_threshold=0.5)[2].tolist() == [1, 5]
    assert ds.arrays(event_type="purchase")[0].size == 0
    assert sorted(ds.event_types()) == ["click", "watch"]
    with pytest.raises(TypeError):
        group.dataset("ITEMS").arrays()


def test_concurrent_put_records_lose_nothing(group):
    ds = group.dataset("INTERACTIONS")

    def worker(k):
        for j in range(50):
            ds.put_records([{"USER_ID": f"u{k}", "ITEM_ID": f"i{j}", "TIMESTAMP": j, "EVENT_TYPE": "click"}])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert ds.n_rows == 200
    assert len(group.users) == 4 and len(group.items) == 50
