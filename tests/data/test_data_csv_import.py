"""CSV bulk-import rules (spec 10 §6, guide L5882-L6016)."""
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from localpersonalize.data import csv_import
from localpersonalize.data.csv_import import (
    MAX_TEXTUAL_LENGTH,
    MAX_TEXTUAL_LENGTH_ZH_JA,
    ImportFailure,
    SizedChunks,
    check_min_interactions,
    parse_csv,
    table_from_records,
)
from localpersonalize.data.schemas import parse_schema

RATINGS = Path("/work/shared/data/movielens/ml-latest-small/ratings.csv")


def schema(name, *fields):
    return parse_schema(json.dumps({"type": "record", "name": name, "fields": list(fields)}))


def f(name, type_, **kw):
    return {"name": name, "type": type_, **kw}


TUTORIAL = schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"))
GUIDE_INTERACTIONS = schema(
    "Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("EVENT_TYPE", "string"),
    f("EVENT_VALUE", ["float", "null"]), f("LOCATION", "string", categorical=True),
    f("DEVICE", ["string", "null"], categorical=True), f("TIMESTAMP", "long"), f("IMPRESSION", "string"))
ITEMS = schema("Items", f("ITEM_ID", "string"), f("GENRES", ["null", "string"], categorical=True),
               f("CREATION_TIMESTAMP", "long"), f("DESCRIPTION", ["null", "string"], textual=True))
USERS = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]), f("GENDER", "string", categorical=True),
               f("VIP", ["null", "boolean"]))


def tutorial_csv() -> tuple[bytes, list]:
    """ratings.csv with the rating column dropped, header USER_ID,ITEM_ID,TIMESTAMP (tutorial L1460-L1480)."""
    with RATINGS.open(newline="") as fh:
        rows = [(r["userId"], r["movieId"], r["timestamp"]) for r in csv.DictReader(fh)]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP"])
    w.writerows(rows)
    return out.getvalue().encode(), rows


@pytest.mark.skipif(not RATINGS.exists(), reason="MovieLens fixture not available")
def test_tutorial_movielens_csv():
    data, rows = tutorial_csv()
    t = parse_csv(data, TUTORIAL, "Interactions")
    assert t.n_rows == len(rows) == 100836
    assert t.dataset_type == "INTERACTIONS"
    assert t.columns["TIMESTAMP"].dtype == np.int64
    assert t.columns["TIMESTAMP"].tolist() == [int(r[2]) for r in rows]
    assert t.strings("USER_ID").tolist() == [r[0] for r in rows]
    assert t.strings("ITEM_ID").tolist() == [r[1] for r in rows]
    assert len(set(t.columns["USER_ID"].dictionary)) == 610
    assert len(t.columns["ITEM_ID"].dictionary) == 9724
    assert t.nulls == {}


def test_spaces_after_commas_in_header_and_values():
    # the tutorial writes "USER_ID, ITEM_ID, TIMESTAMP" (L1471)
    t = parse_csv(b"USER_ID, ITEM_ID, TIMESTAMP\n 1, 10 ,964982703\r\n2,20, 964982704 \n\n", TUTORIAL)
    assert t.strings("USER_ID").tolist() == ["1", "2"]
    assert t.strings("ITEM_ID").tolist() == ["10", "20"]
    assert t.columns["TIMESTAMP"].tolist() == [964982703, 964982704]


def test_header_order_is_free():
    t = parse_csv(b"TIMESTAMP,ITEM_ID,USER_ID\n964982703,i1,u1\n", TUTORIAL)
    assert t.strings("USER_ID").tolist() == ["u1"]
    assert t.columns["TIMESTAMP"].tolist() == [964982703]


def test_guide_interactions_example_rows():
    # L5575-L5590, impressions on one line
    data = (b"USER_ID, ITEM_ID, EVENT_TYPE, EVENT_VALUE, LOCATION, DEVICE, TIMESTAMP, IMPRESSION\n"
            b"35,73,click,,Ohio,Tablet,1586731606,73|70|17|95|96|92|55|45|16|97\n"
            b"54,35,watch,0.75,Indiana,Cellphone,1586735164,35|82|78|57|20\n"
            b"9,33,click,,Oregon,,1586735158,68|33|62\n")
    t = parse_csv(data, GUIDE_INTERACTIONS, "Interactions")
    assert t.n_rows == 3
    ev = t.columns["EVENT_VALUE"]
    assert np.isnan(ev[0]) and ev[1] == pytest.approx(0.75) and np.isnan(ev[2])
    assert t.nulls["EVENT_VALUE"].tolist() == [True, False, True]
    assert t.strings("DEVICE").tolist() == ["Tablet", "Cellphone", None]
    assert t.nulls["DEVICE"].tolist() == [False, False, True]
    assert t.strings("IMPRESSION")[0] == "73|70|17|95|96|92|55|45|16|97"
    assert t.strings("EVENT_TYPE").tolist() == ["click", "watch", "click"]


def test_guide_items_example_with_quoted_textual_field():
    # L5715-L5720: quoted description containing commas; plus a \" escape and an embedded newline
    data = (b'ITEM_ID,GENRES,CREATION_TIMESTAMP,DESCRIPTION\n'
            b'1,Adventure|Animation|Children|Comedy|Fantasy,1570003267,"This is an animated movie, with a twist"\n'
            b'2,,1570003268,"He said \\"hi\\"\nand left"\n'
            b'3,Drama,1570003269,\n')
    t = parse_csv(data, ITEMS, "Items")
    assert t.n_rows == 3
    assert t.strings("DESCRIPTION").tolist() == [
        "This is an animated movie, with a twist", 'He said "hi"\nand left', None]
    assert t.strings("GENRES").tolist() == ["Adventure|Animation|Children|Comedy|Fantasy", None, "Drama"]
    assert t.line_of(2) == 5  # row 3 starts on line 5 because row 2 spans two lines


def test_types_are_coerced():
    t = parse_csv(b"USER_ID,AGE,GENDER,VIP\nu1,34,Male,true\nu2,,Female,FALSE\nu3,-7,Other,\n", USERS)
    assert t.columns["AGE"].dtype == np.int64
    assert t.columns["AGE"].tolist() == [34, 0, -7]
    assert t.nulls["AGE"].tolist() == [False, True, False]
    assert t.columns["VIP"].tolist() == [True, False, False]
    assert t.nulls["VIP"].tolist() == [False, False, True]


def test_nullable_column_absent_from_header_is_all_null():
    t = parse_csv(b"USER_ID,GENDER\nu1,Male\n", USERS)
    assert t.nulls["AGE"].tolist() == [True]
    assert t.nulls["VIP"].tolist() == [True]


def test_empty_file_body_gives_empty_table():
    t = parse_csv(b"USER_ID,ITEM_ID,TIMESTAMP\n", TUTORIAL)
    assert t.n_rows == 0 and len(t.columns["TIMESTAMP"]) == 0


# ---- failures: the reason names the rule, the column and the line ----------

@pytest.mark.parametrize("data,parts", [
    (b"USER_ID,TIMESTAMP\nu1,964982703\n", ["Input CSV is missing the following columns: [ITEM_ID]"]),
    (b"USER_ID\nu1\n", ["Input CSV is missing the following columns: [ITEM_ID, TIMESTAMP]"]),
    (b"USER_ID,ITEM_ID,TIMESTAMP,RATING\nu1,i1,964982703,4\n", ["'RATING'", "not a field of the schema"]),
    (b"user_id,ITEM_ID,TIMESTAMP\nu1,i1,964982703\n", ["'user_id'", "did you mean USER_ID"]),
    (b"USER_ID,ITEM_ID,TIMESTAMP,USER_ID\n", ["USER_ID", "more than once"]),
    (b"", ["empty"]),
    (b"USER_ID,ITEM_ID,TIMESTAMP\r" + b"u1,i1,964982703\r" * 3, ["line 1", "carriage return", "\\r line endings"]),
    (b"USER_ID,ITEM_ID\r,TIMESTAMP\nu1,i1,964982703\n", ["line 1", "carriage return"]),
])
def test_header_failures(data, parts):
    with pytest.raises(ImportFailure) as e:
        parse_csv(data, TUTORIAL)
    for p in parts:
        assert p in e.value.reason, e.value.reason


@pytest.mark.parametrize("quoted", [False, True], ids=["fast-path", "csv-module-path"])
@pytest.mark.parametrize("row,parts", [
    (b"u3,i3,yesterday", ["Column TIMESTAMP", "'yesterday'", "line 4", "not an integer"]),
    (b"u3,i3,1.5e9", ["Column TIMESTAMP", "line 4", "not an integer"]),
    (b"u3,i3,0x5F5E1000", ["Column TIMESTAMP", "'0x5F5E1000'", "line 4", "not an integer"]),  # as long as 1600000000
    (b"u3,xi3,0x10", ["Column TIMESTAMP", "'0x10'", "line 4", "not an integer"]),
    (b"u3,i3,1586731606000", ["Column TIMESTAMP", "line 4", "milliseconds"]),
    (b"u3,,1586731606", ["Column ITEM_ID", "empty value at line 4", "not nullable"]),
    (b"u" + b"x" * 256 + b",i3,1586731606", ["Length for USER_ID cannot exceed 256 characters", "line 4",
                                              "at most 256 characters"]),
    (b"u3,i3", ["line 4", "2 fields", "header has 3"]),
])
def test_row_failures(row, parts, quoted):
    data = b"USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1586731600\nu2,i2,1586731601\n" + row + b"\nu4,i4,1586731602\n"
    if quoted:  # a quoted value elsewhere forces the csv-module path
        data = data.replace(b"u1,", b'"u1",')
    with pytest.raises(ImportFailure) as e:
        parse_csv(data, TUTORIAL)
    for p in parts:
        assert p in e.value.reason, e.value.reason


def test_id_of_exactly_256_characters_is_fine():
    t = parse_csv(b"USER_ID,ITEM_ID,TIMESTAMP\n" + b"u" * 256 + b",i,1\n", TUTORIAL)
    assert len(t.strings("USER_ID")[0]) == 256


@pytest.mark.parametrize("quoted", [False, True], ids=["fast-path", "csv-module-path"])
@pytest.mark.parametrize("line3,line5", [
    (b"u3,i3,yesterday", b"u" + b"x" * 256 + b",i5,1586731605"),   # a rule of a later column
    (b"u3,,1586731603", b"u" + b"x" * 256 + b",i5,1586731605"),
    (b"u3,i3,yesterday", b"u5,i5"),                                # a row with too few fields
    (b"u" + b"x" * 256 + b",i3,1586731603", b"u5,i5,1,2"),
])
def test_of_two_broken_rows_in_a_block_the_earlier_is_reported(line3, line5, quoted):
    data = b"USER_ID,ITEM_ID,TIMESTAMP\nu2,i2,1586731602\n" + line3 + b"\nu4,i4,1586731604\n" + line5 + b"\n"
    if quoted:
        data = data.replace(b"u2,", b'"u2",')
    with pytest.raises(ImportFailure) as e:
        parse_csv(data, TUTORIAL)
    assert "line 3" in e.value.reason, e.value.reason


def test_categorical_value_over_1000_chars_fails():
    ok = "a" * 1000 + "|" + "b" * 1000  # each value ≤1000: fine
    t = parse_csv(f"ITEM_ID,GENRES,CREATION_TIMESTAMP\n1,{ok},1\n".encode(), ITEMS)
    assert t.strings("GENRES")[0] == ok
    bad = "Drama|" + "c" * 1001
    with pytest.raises(ImportFailure) as e:
        parse_csv(f"ITEM_ID,GENRES,CREATION_TIMESTAMP\n1,x,1\n2,{bad},1\n".encode(), ITEMS)
    assert e.value.reason.startswith("Length for GENRES cannot exceed 1000 characters: value") and "line 3" in e.value.reason


def test_impression_over_1000_chars_fails():
    imp = "|".join(["1234567"] * 126)  # 1007 chars with separators
    data = f"USER_ID,ITEM_ID,EVENT_TYPE,LOCATION,TIMESTAMP,IMPRESSION\n1,2,click,Ohio,1,{imp}\n".encode()
    with pytest.raises(ImportFailure, match="IMPRESSION.*line 2.*1000 characters including"):
        parse_csv(data, GUIDE_INTERACTIONS)


def test_textual_over_20000_chars_is_truncated():
    long_text = "x" * (MAX_TEXTUAL_LENGTH + 500)
    t = parse_csv(f'ITEM_ID,CREATION_TIMESTAMP,DESCRIPTION\n1,1,"{long_text}"\n'.encode(), ITEMS)
    assert t.strings("DESCRIPTION")[0] == "x" * MAX_TEXTUAL_LENGTH


def test_a_truncated_text_drops_the_blanks_the_cut_leaves_at_its_end():
    """So an export of it imports back the same (blanks around values are dropped on import)."""
    text = "b" * (MAX_TEXTUAL_LENGTH - 1) + "  c"
    t = parse_csv(f'ITEM_ID,CREATION_TIMESTAMP,DESCRIPTION\n1,1,"{text}"\n'.encode(), ITEMS)
    assert t.strings("DESCRIPTION")[0] == "b" * (MAX_TEXTUAL_LENGTH - 1)


def test_chinese_and_japanese_text_over_7000_chars_is_truncated_to_7000():
    japanese = "これは映画の説明です。" * 1000          # 11,000 characters of Hiragana, Han and punctuation
    chinese = "这是一部关于太空的电影" * 1000
    mixed_latin = ("A film about space. " * 500) + "宇宙"  # 10,002 characters, Latin letters dominate
    rows = "".join(f'{k},1,"{text}"\n' for k, text in enumerate([japanese, chinese, mixed_latin], 1))
    t = parse_csv(f"ITEM_ID,CREATION_TIMESTAMP,DESCRIPTION\n{rows}".encode(), ITEMS)
    kept = dict(zip(t.strings("ITEM_ID"), t.strings("DESCRIPTION")))
    assert kept["1"] == japanese[:MAX_TEXTUAL_LENGTH_ZH_JA] and len(kept["1"]) == 7000
    assert kept["2"] == chinese[:7000]
    assert kept["3"] == mixed_latin  # under 20,000 and not Chinese or Japanese: kept whole


def test_streamed_items_truncate_text_like_bulk_imports():
    text = "これは映画の説明です。" * 1000
    t = table_from_records([{"ITEM_ID": "1", "CREATION_TIMESTAMP": 1, "DESCRIPTION": text}], ITEMS)
    assert t.strings("DESCRIPTION")[0] == text[:7000]


def test_non_numeric_float_fails():
    data = b"USER_ID,ITEM_ID,EVENT_TYPE,EVENT_VALUE,LOCATION,TIMESTAMP,IMPRESSION\n1,2,click,high,Ohio,1,3\n"
    with pytest.raises(ImportFailure, match="Column EVENT_VALUE: value 'high' at line 2 is not a number"):
        parse_csv(data, GUIDE_INTERACTIONS)


def test_int_out_of_range_fails():
    with pytest.raises(ImportFailure, match="AGE.*line 2.*out of range"):
        parse_csv(b"USER_ID,AGE,GENDER\nu1,3000000000,M\n", USERS)


def test_bad_boolean_fails():
    with pytest.raises(ImportFailure, match="VIP.*'maybe'.*line 2.*boolean"):
        parse_csv(b"USER_ID,GENDER,VIP\nu1,M,maybe\n", USERS)


def test_invalid_utf8_fails_with_line():
    with pytest.raises(ImportFailure, match="line 3.*UTF-8"):
        parse_csv(b"USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1\nu\xff,i2,2\n", TUTORIAL)


def test_fast_and_csv_paths_agree():
    body = "".join(f"u{i % 7}, i{i % 13} ,{1586731600 + i}\n" for i in range(500))
    fast = parse_csv(("USER_ID,ITEM_ID,TIMESTAMP\n" + body).encode(), TUTORIAL)
    slow = parse_csv(('USER_ID,ITEM_ID,TIMESTAMP\n"u0",i0,1\n' + body).encode(), TUTORIAL)
    for name in ("USER_ID", "ITEM_ID"):
        assert slow.strings(name).tolist()[1:] == fast.strings(name).tolist()
    assert slow.columns["TIMESTAMP"].tolist()[1:] == fast.columns["TIMESTAMP"].tolist()


def test_records_use_the_same_rules():
    t = table_from_records([{"USER_ID": "u1", "ITEM_ID": "i1", "TIMESTAMP": 1586731600}], TUTORIAL)
    assert t.columns["TIMESTAMP"].tolist() == [1586731600]
    with pytest.raises(ImportFailure, match="TIMESTAMP.*record 2.*milliseconds"):
        table_from_records([{"USER_ID": "u1", "ITEM_ID": "i1", "TIMESTAMP": 1},
                            {"USER_ID": "u1", "ITEM_ID": "i1", "TIMESTAMP": 1586731600000}], TUTORIAL)
    with pytest.raises(ImportFailure, match="RATING"):
        table_from_records([{"USER_ID": "u1", "ITEM_ID": "i1", "TIMESTAMP": 1, "RATING": 3}], TUTORIAL)


def test_min_interactions():
    check_min_interactions(1000)
    with pytest.raises(ImportFailure, match="at least 1000 new records, found 999"):
        check_min_interactions(999)


def test_numeric_looking_ids_keep_their_exact_text():
    t = parse_csv(b"USER_ID,ITEM_ID,TIMESTAMP\n007,7,1\n7,0,2\n0,00,3\n", TUTORIAL)
    assert t.strings("USER_ID").tolist() == ["007", "7", "0"]
    assert t.strings("ITEM_ID").tolist() == ["7", "0", "00"]
    assert len(set(t.columns["USER_ID"].codes.tolist())) == 3


def test_long_ids_and_wide_values_use_the_general_path():
    uid = "user-" + "x" * 40
    t = parse_csv(f"USER_ID,ITEM_ID,TIMESTAMP\n{uid},i-123456789012345678901,1\n{uid},b,-5\n".encode(), TUTORIAL)
    assert t.strings("USER_ID").tolist() == [uid, uid]
    assert t.columns["USER_ID"].codes.tolist() == [0, 0]
    assert t.strings("ITEM_ID").tolist() == ["i-123456789012345678901", "b"]
    assert t.columns["TIMESTAMP"].tolist() == [1, -5]


def test_long_beyond_18_digits():
    s = schema("Users", f("USER_ID", "string"), f("BIG", "long"))
    t = parse_csv(b"USER_ID,BIG\nu,9223372036854775807\n", s)
    assert t.columns["BIG"].tolist() == [9223372036854775807]
    with pytest.raises(ImportFailure, match="BIG.*line 2.*not an integer"):
        parse_csv(b"USER_ID,BIG\nu,92233720368547758070\n", s)


# ---- the typed fast path (integer columns read as int64, proven canonical by the block's byte count) ----

def numeric_body(n, start=0):
    return "".join(f"{(i * 7) % 101},{(i * 13) % 997},{1586731600 + i}\n" for i in range(start, start + n))


def careful(data, schema_, monkeypatch, **kw):
    """parse_csv with the typed fast path switched off: every block takes the careful (binary) path."""
    with monkeypatch.context() as m:
        m.setattr(csv_import, "_typed_plan", lambda *a: None)
        return parse_csv(data, schema_, **kw)


def assert_same_table(a, b):
    assert a.n_rows == b.n_rows
    for name, col in a.columns.items():
        if hasattr(col, "codes"):
            assert a.strings(name).tolist() == b.strings(name).tolist(), name
        else:
            np.testing.assert_array_equal(col, b.columns[name], err_msg=name)
    assert {k: v.tolist() for k, v in a.nulls.items()} == {k: v.tolist() for k, v in b.nulls.items()}


@pytest.mark.parametrize("odd_row", [
    "007,7,1586731600", "+7,8,1586731600", " 7,8,1586731600", "7, 8,1586731600", "-7,8,1586731600",
    "7,8,+1586731600", "7,8,01586731600", '"7",8,1586731600', "7,8,1586731600\r", "", "  ",
    "u7,8,1586731600", "123456789012345678901,8,1586731600", "7,8,-5",
], ids=lambda r: repr(r))
def test_numeric_ids_keep_their_exact_text_in_every_block(odd_row, monkeypatch):
    """Personalize IDs are strings: a block with a non-canonical number (sign, blank, leading zero, quote,
    \\r, blank line, text) is read the careful way, and the table equals the all-careful one."""
    data = ("USER_ID,ITEM_ID,TIMESTAMP\n" + numeric_body(3000) + odd_row + "\n" + numeric_body(3000, 3000)).encode()
    fast = parse_csv(iter([data[k:k + 5000] for k in range(0, len(data), 5000)]), TUTORIAL, block_bytes=8192)
    assert_same_table(fast, careful(data, TUTORIAL, monkeypatch, block_bytes=8192))
    if odd_row.startswith("007"):
        assert "007" in fast.strings("USER_ID").tolist() and "7" in fast.strings("USER_ID").tolist()


def test_a_short_row_cannot_hide_a_sign_from_the_typed_read(monkeypatch):
    """A short row (its missing field null) and a ``+`` elsewhere in the same block would cancel out in the
    byte count of the typed read of an all-integer block (polars fills short rows with nulls): a block
    with a null must also have one newline and fields - 1 commas per row, so it is read the careful way
    and fails on the short row, as with the typed read switched off."""
    s = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]))
    body = "".join(f"{i},{i % 90}\n" for i in range(40))
    data = ("USER_ID,AGE\n" + body + "40,+30\n41\n" + body).encode()
    with pytest.raises(ImportFailure) as fast:
        parse_csv(data, s)
    with pytest.raises(ImportFailure) as slow:
        careful(data, s, monkeypatch)
    assert fast.value.reason == slow.value.reason
    assert "line 43 has 1 fields but the header has 2" in fast.value.reason


@pytest.mark.parametrize("text", [False, True])
def test_a_null_in_an_integer_column_stays_null_in_the_typed_read(text, monkeypatch):
    """Empty cells of a nullable integer column are nulls in both typed readers (all-integer blocks and
    blocks with text columns), as in the careful path."""
    s = schema("Users", f("USER_ID", "string"), f("AGE", ["null", "int"]))
    body = "".join(f"{'u' if text else ''}{i},{'' if i % 4 else i % 90}\n" for i in range(3000))
    data = ("USER_ID,AGE\n" + body).encode()
    fast = parse_csv(data, s, block_bytes=4096)
    assert_same_table(fast, careful(data, s, monkeypatch, block_bytes=4096))
    assert fast.nulls["AGE"][:5].tolist() == [False, True, True, True, False]


def test_numeric_ids_of_any_size_factorize_to_the_same_codes(monkeypatch):
    """Small IDs take a presence table, large ones a hash; both give codes in numeric order of the IDs."""
    body = "".join(f"{10**15 + (i * 7919) % 5003},{i % 11},{i}\n" for i in range(4000))
    data = ("USER_ID,ITEM_ID,TIMESTAMP\n" + body).encode()
    fast = parse_csv(data, TUTORIAL, block_bytes=4096)
    assert_same_table(fast, careful(data, TUTORIAL, monkeypatch, block_bytes=4096))
    users = fast.columns["USER_ID"]
    assert [int(v) for v in users.dictionary] == sorted(int(v) for v in users.dictionary)
    seen = set(users.dictionary)
    assert users.dictionary == [str(10**15 + k) for k in range(5003) if str(10**15 + k) in seen]


@pytest.mark.parametrize("users,items", [
    (lambda i: 3 * ((i * 7) % 101), lambda i: 5 + i % 11),  # gaps / no gap but not from 0
    (lambda i: 1000 + (i * 7) % 101, lambda i: 0 if i % 2 else 2),
])
def test_numeric_ids_with_or_without_gaps_number_the_same_as_the_careful_path(users, items, monkeypatch):
    """IDs marked in a presence table get codes in numeric order, whether they run without a gap (codes are
    the value less the smallest) or not (a table look-up); with a null among them too."""
    s = schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
               f("SHOP", ["null", "string"], categorical=True))
    body = "".join(f"{users(i)},{items(i)},{i},{'' if i % 3 else users(i) + 1}\n" for i in range(3000))
    data = ("USER_ID,ITEM_ID,TIMESTAMP,SHOP\n" + body).encode()
    fast = parse_csv(data, s, block_bytes=4096)
    assert_same_table(fast, careful(data, s, monkeypatch, block_bytes=4096))
    for name in ("USER_ID", "ITEM_ID", "SHOP"):
        col = fast.columns[name]
        assert [int(v) for v in col.dictionary] == sorted({int(v) for v in col.dictionary}), name
    assert fast.strings("USER_ID")[:4].tolist() == [str(users(i)) for i in range(4)]
    assert fast.strings("SHOP")[:4].tolist() == [str(users(0) + 1), None, None, str(users(3) + 1)]


def test_a_large_id_after_small_ones_keeps_every_id(monkeypatch):
    """Blocks of small integer IDs (kept as int32) followed by one beyond int32: the column's values are
    widened, not wrapped, and every ID keeps its text."""
    body = numeric_body(3000) + f"{2**40 + 7},5,1586735000\n" + numeric_body(500, 3000)
    data = ("USER_ID,ITEM_ID,TIMESTAMP\n" + body).encode()
    fast = parse_csv(data, TUTORIAL, block_bytes=4096)
    assert_same_table(fast, careful(data, TUTORIAL, monkeypatch, block_bytes=4096))
    assert fast.strings("USER_ID")[3000] == str(2**40 + 7)


@pytest.mark.parametrize("big", [2**31 - 1, 2**31])
def test_numeric_ids_past_int32_widen_the_typed_read_not_the_careful_path(big, monkeypatch):
    """Numeric IDs are read as int32 while they fit: the first larger one makes the typed read use int64
    from there on (a value that fits stays int32), and no block falls back to the careful path."""
    careful_blocks = []
    real = csv_import._read_block
    monkeypatch.setattr(csv_import, "_read_block", lambda *a: careful_blocks.append(1) or real(*a))
    body = numeric_body(1000) + f"{big},5,1586735000\n" + numeric_body(2000, 1000)
    t = parse_csv(("USER_ID,ITEM_ID,TIMESTAMP\n" + body).encode(), TUTORIAL, block_bytes=4096)
    assert careful_blocks == []
    assert t.strings("USER_ID")[1000] == str(big) and t.strings("USER_ID")[:3].tolist() == ["0", "7", "14"]
    assert t.columns["USER_ID"].dictionary[-1] == str(big)


@pytest.mark.parametrize("hint", [0, 1, 0.5, 1.0, 30.0])
def test_the_size_hint_of_a_stream_only_sizes_its_arrays(hint):
    """SizedChunks tells parse_csv the file's bytes, from which the first block estimates the rows; a
    hint that is wrong (too small, far too large, none) gives the same table."""
    s = schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
               f("SHOP", ["null", "string"], categorical=True))
    body = "".join(f"{i % 50},{i % 70},{i},{'' if i % 3 else 'shop' + str(i % 4)}\n" for i in range(6000))
    data = ("USER_ID,ITEM_ID,TIMESTAMP,SHOP\n" + body).encode()
    chunks = [data[k:k + 5000] for k in range(0, len(data), 5000)]
    sized = parse_csv(SizedChunks(chunks, int(hint * len(data))), s, block_bytes=4096)
    assert_same_table(sized, parse_csv(iter(chunks), s, block_bytes=4096))
    assert sized.n_rows == 6000 and sized.strings("SHOP")[:4].tolist() == ["shop0", None, None, "shop3"]


def test_nullable_numeric_string_column_keeps_empty_cells_null(monkeypatch):
    s = schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
               f("SHOP", ["null", "string"], categorical=True), f("EVENT_VALUE", ["null", "float"]))
    body = "".join(f"{i % 50},{i % 70},{i},{'' if i % 3 else i % 4},{'' if i % 5 else 0.5}\n" for i in range(3000))
    data = ("USER_ID,ITEM_ID,TIMESTAMP,SHOP,EVENT_VALUE\n" + body).encode()
    fast = parse_csv(data, s, block_bytes=4096)
    assert_same_table(fast, careful(data, s, monkeypatch, block_bytes=4096))
    assert fast.strings("SHOP")[:4].tolist() == ["0", None, None, "3"]


@pytest.mark.parametrize("row,parts", [
    ("1,2,1586731606000", ["Column TIMESTAMP", "'1586731606000'", "line 2502", "milliseconds"]),
    ("1,,1586731606", ["Column ITEM_ID", "empty value at line 2502", "not nullable"]),
    ("1,2", ["line 2502", "2 fields", "header has 3"]),
])
def test_failure_in_a_typed_block_names_the_first_offending_line(row, parts):
    data = ("USER_ID,ITEM_ID,TIMESTAMP\n" + numeric_body(2500) + row + "\n" + numeric_body(100)).encode()
    with pytest.raises(ImportFailure) as e:
        parse_csv(data, TUTORIAL, block_bytes=4096)
    for p in parts:
        assert p in e.value.reason, e.value.reason


def test_int_field_read_typed_keeps_its_range_rule():
    body = "".join(f"u{i},{i % 90},M\n" for i in range(3000))
    with pytest.raises(ImportFailure, match="AGE.*line 3002.*out of range"):
        parse_csv(("USER_ID,AGE,GENDER\n" + body + "u,3000000000,M\n").encode(), USERS, block_bytes=4096)
