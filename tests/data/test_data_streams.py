"""Streamed records, sessions, the per-user index, exports, user deletion, schema replacement and the
import-job rules of the data layer (spec 10 §2/§4.1/§6, spec 40 §3-§5, §9-§11)."""
import json

import numpy as np
import pytest

from localpersonalize.data import records
from localpersonalize.data.csv_import import ImportFailure, parse_csv
from localpersonalize.data.datasets import BULK, STREAM, DatasetGroupData
from localpersonalize.data.schemas import SchemaError, check_schema_replacement, parse_schema


def schema(name, *fields):
    return parse_schema(json.dumps({"type": "record", "name": name, "fields": list(fields)}))


def f(name, type_, **kw):
    return {"name": name, "type": type_, **kw}


INTERACTIONS = schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
                      f("EVENT_TYPE", "string"), f("EVENT_VALUE", ["null", "float"]),
                      f("IMPRESSION", ["null", "string"]), f("RECOMMENDATION_ID", ["null", "string"]),
                      f("NUM_RATINGS", ["null", "int"]))
USERS = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]),
               f("MEMBERSHIP_STATUS", "string", categorical=True))


def rows(n, users=30, start=0, event="click"):
    return "".join(f"u{i % users},i{i % 40},{1_600_000_000 + start + i},{event},,,,\n" for i in range(n))


HEADER = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,IMPRESSION,RECOMMENDATION_ID,NUM_RATINGS\n"


@pytest.fixture
def group():
    g = DatasetGroupData()
    g.create_dataset("Interactions", INTERACTIONS)
    g.create_dataset("Users", USERS)
    return g


def event(u, i, t, etype="click", **kw):
    return {"USER_ID": u, "ITEM_ID": i, "TIMESTAMP": t, "EVENT_TYPE": etype, **kw}


# ----- import-job rules
def test_import_job_into_interactions_needs_1000_new_records(group):
    ds = group.dataset("INTERACTIONS")
    with pytest.raises(ImportFailure, match="at least 1000 new records, found 999"):
        ds.import_files([(HEADER + rows(999)).encode()])
    assert ds.n_rows == 0
    assert ds.import_files([(HEADER + rows(1000)).encode()]) == 1000


def test_first_import_must_be_full(group):
    ds = group.dataset("INTERACTIONS")
    with pytest.raises(ImportFailure, match="first import job of a dataset must use FULL"):
        ds.import_files([(HEADER + rows(1000)).encode()], "INCREMENTAL")
    ds.import_files([(HEADER + rows(1000)).encode()], "FULL")
    assert ds.import_files([(HEADER + rows(1000, start=5000)).encode()], "INCREMENTAL") == 2000


def test_import_of_several_files_is_one_atomic_job(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_files([(HEADER + rows(1000)).encode()])
    before = ds.codes("TIMESTAMP").copy()
    good, bad = (HEADER + rows(600)).encode(), (HEADER + rows(600) + "u1,i1,oops,click,,,,\n").encode()
    with pytest.raises(ImportFailure, match="TIMESTAMP.*line 602"):
        ds.import_files([good, bad])
    np.testing.assert_array_equal(ds.codes("TIMESTAMP"), before)
    assert ds.import_files([good, good]) == 1200  # FULL: both files replace the earlier bulk rows


def test_interactions_field_budget_metadata_plus_event_types_at_most_10(group):
    ds = group.dataset("INTERACTIONS")
    # EVENT_TYPE, EVENT_VALUE and NUM_RATINGS count (3): 7 event types fit, 8 do not (guide L5512)
    seven = "".join(rows(150, start=k * 1000, event=f"e{k}") for k in range(7))
    ds.import_files([(HEADER + seven).encode()])
    with pytest.raises(ImportFailure, match="3 optional metadata fields .* 8 distinct event types"):
        ds.put_records([event("u1", "i1", 5, "e7")], sessions=["s"])
    assert ds.n_rows == 1050
    ds.put_records([event("u1", "i1", 5, "e6")], sessions=["s"])
    assert ds.n_rows == 1051


def test_parse_in_blocks_matches_one_block_and_counts_lines_across_blocks():
    body = "".join(f"u{i % 97},i{i % 13},{1_600_000_000 + i},click,,,,\n" for i in range(5000))
    one = parse_csv((HEADER + body).encode(), INTERACTIONS, block_bytes=1 << 30)
    chunks = [(HEADER + body).encode()[k:k + 777] for k in range(0, len(HEADER + body), 777)]
    many = parse_csv(iter(chunks), INTERACTIONS, block_bytes=4096)
    assert many.strings("USER_ID").tolist() == one.strings("USER_ID").tolist()
    assert many.columns["TIMESTAMP"].tolist() == one.columns["TIMESTAMP"].tolist()
    bad = (HEADER + body + "u1,i1,x,click,,,,\n" + body).encode()
    with pytest.raises(ImportFailure, match="line 5002"):
        parse_csv(bad, INTERACTIONS, block_bytes=4096)
    quoted = (HEADER + body + '"u,1",i1,5,click,,,,\n').encode()
    t = parse_csv(quoted, INTERACTIONS, block_bytes=4096)
    assert t.n_rows == 5001 and t.strings("USER_ID")[-1] == "u,1"


# ----- streamed events, sessions and the per-user index
def test_put_events_are_visible_to_user_items_at_once(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_files([(HEADER + rows(1000)).encode()])
    before = group.user_items("u1").tolist()
    ds.put_records([event("u1", "new-item", 1_700_000_000)], sessions=["s1"])
    after = group.user_items("u1")
    assert after.tolist()[:-1] == before and group.items.ids[after[-1]] == "new-item"


def test_user_items_index_survives_many_appends_and_a_full_import(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_files([(HEADER + rows(1000)).encode()])
    for k in range(300):
        ds.put_records([event(f"u{k % 7}", f"x{k}", 2_000_000_000 + k)], sessions=[f"s{k % 7}"])
    items = group.items.ids
    expect = [items[c] for c in group.user_items("u3")]
    u, i, t = ds.arrays()
    mine = np.flatnonzero(u == group.users.code("u3"))
    assert expect == [items[c] for c in i[mine[np.argsort(t[mine], kind="stable")]]]
    ds.import_files([(HEADER + rows(1000, users=5)).encode()])  # FULL: the bulk rows are replaced
    assert [items[c] for c in group.user_items("u3")][-43:] == [f"x{k}" for k in range(300) if k % 7 == 3]


def test_anonymous_events_merge_into_the_user_when_an_event_carries_both(group):
    ds = group.dataset("INTERACTIONS")
    ds.put_records([event(None, "a", 10), event(None, "b", 11)], sessions=["sess", "sess"])
    # while anonymous: served by sessionId, never trained on
    assert [group.items.ids[c] for c in group.user_items("sess")] == ["a", "b"]
    assert ds.arrays()[0].size == 0
    ds.put_records([event("alice", "c", 12)], sessions=["sess"])
    assert [group.items.ids[c] for c in group.user_items("alice")] == ["a", "b", "c"]
    u, i, t = ds.arrays()
    assert set(u.tolist()) == {group.users.code("alice")} and t.tolist() == [10, 11, 12]


def test_anonymous_event_needs_a_session(group):
    with pytest.raises(ImportFailure, match="userId or a sessionId"):
        group.dataset("INTERACTIONS").put_records([event(None, "a", 10)])


def test_exact_duplicate_events_and_repeated_event_ids_are_stored_once(group):
    ds = group.dataset("INTERACTIONS")
    ds.put_records([event("u", "a", 10), event("u", "a", 10)], sessions=["s", "s"])
    ds.put_records([event("u", "a", 10)], sessions=["s"])
    assert ds.n_rows == 1
    ds.put_records([event("u", "a", 10, EVENT_VALUE=1.5)], sessions=["s"])  # differs in a field
    ds.put_records([event("u", "b", 11)], sessions=["s"], event_ids=["e1"])
    ds.put_records([event("u", "c", 12)], sessions=["s"], event_ids=["e1"])
    assert ds.n_rows == 3


def test_a_streamed_event_equal_to_a_bulk_row_is_stored_and_survives_a_full_import(group):
    """Guide L14780 keeps one of two *recorded* events; a bulk row is not one (L15790-L15795)."""
    ds = group.dataset("INTERACTIONS")
    ds.import_files([(HEADER + rows(1000)).encode()])          # holds u0,i0,1600000000,click
    ds.put_records([event("u0", "i0", 1_600_000_000)], sessions=["s"])
    assert ds.export_csv("PUT")[0].decode().splitlines()[1:] == ["u0,i0,1600000000,click,,,,"]
    assert ds.export_csv("ALL")[1] == 1000                     # written once where both are exported
    ds.import_files([(HEADER + rows(1000, start=5000)).encode()], mode="FULL")
    assert ds.export_csv("ALL")[0].decode().count("u0,i0,1600000000,click") == 1


def test_rejected_batch_stores_none_of_its_records(group):
    ds = group.dataset("INTERACTIONS")
    with pytest.raises(ImportFailure, match="record 2"):
        ds.put_records([event("u", "a", 10), event("u", "b", "soon")], sessions=["s", "s"])
    assert ds.n_rows == 0 and len(group.sessions) == 0 or ds.n_rows == 0


# ----- records from the events API
INTER_SCHEMA = INTERACTIONS


def test_camel_case_of_schema_fields():
    assert records.camel_case("NUM_RATINGS") == "numRatings"
    assert records.camel_case("NUMBER_OF_RATINGS") == "numberOfRatings"
    assert records.camel_case("ITEM_ID") == "itemId"


def test_event_record_maps_members_and_properties():
    ev = {"eventType": "rating", "sentAt": 1553631760, "properties": json.dumps({"itemId": "i9", "eventValue": "4",
                                                                                  "numRatings": "13"}),
          "impression": ["i9", "i2"], "recommendationId": "RID-1"}
    rec = records.event_record(ev, "u1", INTER_SCHEMA, 1)
    assert rec == {"USER_ID": "u1", "ITEM_ID": "i9", "TIMESTAMP": 1553631760, "EVENT_TYPE": "rating",
                   "EVENT_VALUE": "4", "IMPRESSION": "i9|i2", "RECOMMENDATION_ID": "RID-1", "NUM_RATINGS": "13"}


@pytest.mark.parametrize("props, words", [
    ('{"userId": "x"}', "'userId' cannot be a key"),
    ('{"Impression": "x"}', "'Impression' cannot be a key"),
    ('{"numRatings": 0"}', "not valid JSON"),
    ('{"numRatings": ' + "[" * 5000 + "]" * 5000 + "}", "properties nests JSON values too deeply"),
    ('{"numRatings": 1' + "0" * 4300 + "}", "properties holds an integer of more than 4300 digits"),
    (json.dumps(json.dumps({"numRatings": 1})), "encoded twice"),
    ('{"rating": 5}', "matches no field"),
    ('{"NUM_RATINGS": 5}', "did you mean 'numRatings'"),
    ('{"itemId": "other"}', "given both as a member"),
    ('{"numRatings": [1, 2]}', "string, number or boolean"),
])
def test_bad_event_properties_are_refused(props, words):
    ev = {"eventType": "click", "sentAt": 1, "itemId": "i1", "properties": props}
    with pytest.raises(ImportFailure, match=words):
        records.event_record(ev, "u1", INTER_SCHEMA, 1)


def test_unknown_property_key_lists_only_the_keys_properties_may_hold():
    ev = {"eventType": "click", "sentAt": 1, "itemId": "i1", "properties": '{"colour": "red"}'}
    with pytest.raises(ImportFailure) as e:
        records.event_record(ev, "u1", INTER_SCHEMA, 1)
    assert str(e.value).endswith("keys are the camelCase names of the fields (itemId, eventValue, numRatings)")


def test_event_over_10_kb_is_refused():
    ev = {"eventType": "click", "sentAt": 1, "itemId": "i1", "properties": json.dumps({"numRatings": "1" * 11000})}
    with pytest.raises(ImportFailure, match="10 KB"):
        records.event_record(ev, "u1", INTER_SCHEMA, 1)


def test_event_size_counts_utf8_bytes_not_json_escapes():
    """3,000 CJK characters are 9,000 bytes of UTF-8 (under 10 KB), but 18,000 as \\uXXXX escapes."""
    ok = {"eventType": "click", "sentAt": 1, "itemId": "i1", "impression": ["商品" * 60 + f"{k:02d}" for k in range(25)]}
    assert records.event_record(ok, "u1", INTER_SCHEMA, 1)["ITEM_ID"] == "i1"
    big = {**ok, "impression": ["商品" * 70 + f"{k:02d}" for k in range(25)]}  # 10,725 bytes
    with pytest.raises(ImportFailure, match=r"is 1\d{4} bytes; at most 10240"):
        records.event_record(big, "u1", INTER_SCHEMA, 1)


def test_event_needs_an_item_id():
    with pytest.raises(ImportFailure, match="itemId is required"):
        records.event_record({"eventType": "click", "sentAt": 1}, "u1", INTER_SCHEMA, 1)


def test_sent_at_accepts_the_guides_forms():
    assert records.epoch_seconds(1553631760, "x") == 1553631760
    assert records.epoch_seconds("1667260945", "x") == 1667260945
    assert records.epoch_seconds(1553631760.9, "x") == 1553631760
    assert records.epoch_seconds("2020-07-31T23:30:43Z", "x") == 1596238243  # the guide's example (L5997)


def test_action_interaction_event_types():
    s = schema("ActionInteractions", f("USER_ID", "string"), f("ACTION_ID", "string"),
               f("EVENT_TYPE", "string"), f("TIMESTAMP", "long"))
    for et in ("Taken", "Not Taken", "NOT_TAKEN", "viewed"):
        assert records.action_interaction_record({"actionId": "a", "eventType": et, "timestamp": 5,
                                                  "sessionId": "s"}, s, 1)["EVENT_TYPE"] == et
    with pytest.raises(ImportFailure, match="Taken, Not Taken or Viewed"):
        records.action_interaction_record({"actionId": "a", "eventType": "Clicked", "timestamp": 5}, s, 1)


def test_put_users_upserts_with_properties(group):
    ds = group.dataset("USERS")
    recs = [records.entity_record("USER_ID", "u1", json.dumps({"age": 34, "membershipStatus": "Member|Frequent shopper"}),
                                  USERS, 1, "User")]
    ds.put_records(recs)
    ds.put_records([records.entity_record("USER_ID", "u1", '{"membershipStatus": "Gold"}', USERS, 1, "User")])
    assert ds.column("MEMBERSHIP_STATUS").tolist() == ["Gold"] and ds.null_mask("AGE").tolist() == [True]
    with pytest.raises(ImportFailure, match="MEMBERSHIP_STATUS: empty value at record 1"):
        ds.put_records([records.entity_record("USER_ID", "u2", '{"age": 3}', USERS, 1, "User")])


# ----- exports (spec 40 §9)
def test_export_modes_and_deduplication(group):
    ds = group.dataset("INTERACTIONS")
    ds.import_files([(HEADER + rows(1000) + "u0,i0,1600000000,click,,,,\n").encode()])  # one exact duplicate
    ds.put_records([event("u1", "i,comma", 5, EVENT_VALUE=0.5)], sessions=["s"])
    bulk, n_bulk = ds.export_csv("BULK")
    put, n_put = ds.export_csv("PUT")
    everything, n_all = ds.export_csv("ALL")
    assert (n_bulk, n_put, n_all) == (1000, 1, 1001)
    assert bulk.decode().splitlines()[0] == HEADER.strip()
    assert put.decode().splitlines()[1] == 'u1,"i,comma",5,click,0.5,,,'
    reparsed = parse_csv(everything, INTERACTIONS)
    assert reparsed.n_rows == 1001


def test_export_of_items_keeps_the_latest_record_per_id():
    g = DatasetGroupData()
    items = schema("Items", f("ITEM_ID", "string"), f("GENRES", ["null", "string"], categorical=True))
    ds = g.create_dataset("Items", items)
    ds.import_files([b"ITEM_ID,GENRES\na,Drama\nb,Comedy|Horror\n"])
    ds.put_records([{"ITEM_ID": "a", "GENRES": "Kids"}])
    assert ds.export_csv("ALL")[0].decode().splitlines() == ["ITEM_ID,GENRES", "a,Kids", "b,Comedy|Horror"]


def test_each_origin_keeps_its_latest_record_of_an_id_and_a_full_import_brings_a_put_record_back():
    """Guide L15790-L15795: ALL exports the latest record of an ID, PUT and BULK their own origin's; a FULL
    import replaces bulk records only (spec 40 §7.2)."""
    g = DatasetGroupData()
    users = schema("Users", f("USER_ID", "string"), f("AGE", "int"))
    ds = g.create_dataset("Users", users)
    ds.import_files([b"USER_ID,AGE\na,1\n"])
    ds.put_records([{"USER_ID": "c", "AGE": 30}, {"USER_ID": "a", "AGE": 2}])
    ds.import_files([b"USER_ID,AGE\nc,31\nb,5\n"], mode="INCREMENTAL")

    def export(mode):
        return sorted(ds.export_csv(mode)[0].decode().splitlines()[1:])

    assert (export("ALL"), export("BULK"), export("PUT")) == (["a,2", "b,5", "c,31"], ["a,1", "b,5", "c,31"],
                                                             ["a,2", "c,30"])
    assert ds.n_rows == 3 and sorted(ds.column("AGE").tolist()) == [2, 5, 31]   # what models and filters read
    ds.import_files([b"USER_ID,AGE\nz,9\n"], mode="FULL")
    assert (export("ALL"), export("BULK"), export("PUT")) == (["a,2", "c,30", "z,9"], ["z,9"], ["a,2", "c,30"])
    ds.import_files([b"USER_ID,AGE\nc,32\n"], mode="INCREMENTAL")
    assert g.delete_users(["c"]) == 2                                     # the bulk record and the PUT one
    assert (export("ALL"), export("PUT")) == (["a,2", "z,9"], ["a,2"])
    ds.replace_schema(schema("Users", f("USER_ID", "string"), f("AGE", "int"), f("CITY", ["null", "string"])))
    ds.import_files([b"USER_ID,AGE,CITY\na,3,Oslo\n"], mode="INCREMENTAL")
    assert (export("ALL"), export("PUT")) == (["a,3,Oslo", "z,9,"], ["a,2,"])


def test_rows_parsed_before_an_update_dataset_are_applied_with_nulls_in_the_new_fields():
    """An import job or Put* call that parsed its rows with the old schema, applied after UpdateDataset."""
    g = DatasetGroupData()
    old = schema("Users", f("USER_ID", "string"), f("AGE", "int"))
    ds = g.create_dataset("Users", old)
    table = parse_csv(b"USER_ID,AGE\na,1\n", old, "Users")
    ds.replace_schema(schema("Users", f("USER_ID", "string"), f("AGE", "int"), f("CITY", ["null", "string"])))
    ds._apply(table, BULK, replace_bulk=True)
    assert ds.export_csv("ALL")[0].decode().splitlines() == ["USER_ID,AGE,CITY", "a,1,"]


def test_an_export_imports_back_unchanged_with_backslashes_quotes_and_commas():
    g = DatasetGroupData()
    items = schema("Items", f("ITEM_ID", "string"), f("GENRES", ["null", "string"], categorical=True))
    ds = g.create_dataset("Items", items)
    ds.put_records([{"ITEM_ID": "a\\b", "GENRES": 'say "hi", then\\go'}, {"ITEM_ID": "ab", "GENRES": "Kids"}])
    text = ds.export_csv("ALL")[0]
    again = DatasetGroupData().create_dataset("Items", items)
    again.import_files([text])
    assert sorted(again.column("ITEM_ID").tolist()) == ["a\\b", "ab"]      # not merged into "ab"
    assert again.column("GENRES").tolist() == ds.column("GENRES").tolist()


# ----- data deletion (spec 40 §11)
def test_delete_users_removes_every_record_of_theirs(group):
    inter, users = group.dataset("INTERACTIONS"), group.dataset("USERS")
    inter.import_files([(HEADER + rows(1000)).encode()])
    users.import_files([b"USER_ID,AGE,MEMBERSHIP_STATUS\nu1,30,Gold\nu2,40,Silver\n"])
    inter.put_records([event(None, "z", 5)], sessions=["anon"])
    inter.put_records([event("u1", "y", 6)], sessions=["anon"])  # links the anonymous event to u1
    per_user = 1000 // 30 + (1 if 1 < 1000 % 30 else 0)
    deleted = group.delete_users(["u1", "nobody"])
    assert deleted == per_user + 2 + 1  # interactions + streamed (one linked anonymous) + the Users row
    assert group.user_items("u1").size == 0 and users.column("USER_ID").tolist() == ["u2"]
    assert group.users.code("u1") not in set(inter.arrays()[0].tolist())


# ----- schema replacement (spec 40 §10)
def test_schema_replacement_rules():
    old = USERS
    new = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]),
                 f("MEMBERSHIP_STATUS", "string", categorical=True), f("TIER", ["null", "string"], categorical=True))
    check_schema_replacement(old, new, "USERS")
    dropped = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]))
    with pytest.raises(SchemaError, match="MEMBERSHIP_STATUS: the new schema must keep every field"):
        check_schema_replacement(old, dropped, "USERS")
    retyped = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "long"]),
                     f("MEMBERSHIP_STATUS", "string", categorical=True))
    with pytest.raises(SchemaError, match="AGE: .*data type and attributes"):
        check_schema_replacement(old, retyped, "USERS")
    required_new = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]),
                          f("MEMBERSHIP_STATUS", "string", categorical=True), f("TIER", "string", categorical=True))
    with pytest.raises(SchemaError, match="TIER: a field added .* must be nullable"):
        check_schema_replacement(old, required_new, "USERS")
    with pytest.raises(SchemaError, match="Only the schema of a Users or Items dataset"):
        check_schema_replacement(INTERACTIONS, INTERACTIONS, "INTERACTIONS")


def test_replaced_schema_keeps_the_data_and_adds_null_columns(group):
    ds = group.dataset("USERS")
    ds.import_files([b"USER_ID,AGE,MEMBERSHIP_STATUS\nu1,30,Gold\n"])
    new = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]),
                 f("MEMBERSHIP_STATUS", "string", categorical=True), f("TIER", ["null", "string"], categorical=True))
    ds.replace_schema(new)
    assert ds.column("TIER").tolist() == [None] and ds.column("MEMBERSHIP_STATUS").tolist() == ["Gold"]
    ds.import_files([b"USER_ID,AGE,MEMBERSHIP_STATUS,TIER\nu2,5,Silver,A\n"], "INCREMENTAL")
    assert ds.column("TIER").tolist() == [None, "A"] and ds.origin.tolist() == [BULK, BULK]
    assert STREAM != BULK
