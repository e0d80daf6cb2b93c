"""One test per evaluation rule of spec 50 §5-§6 not covered by the guide's corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest

from localpersonalize.data.datasets import DatasetGroupData
from localpersonalize.data.schemas import parse_schema
from localpersonalize.errors import InvalidInputException
from localpersonalize.filters import allowed_mask, compile_filter, parse_filter_values, recent_targets


def _passing(data, text, **kw):
    expr, _ = compile_filter(text, data)
    mask = allowed_mask(expr, data, len(data.items), **kw)
    return {data.items.ids[i] for i in np.flatnonzero(mask)}


def test_streamed_events_reach_the_filter_at_once(catalogue):
    text = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    assert "i5" in _passing(catalogue, text, user_id="u1")
    catalogue.dataset("INTERACTIONS").put_records([{"USER_ID": "u1", "ITEM_ID": "i5", "TIMESTAMP": 9,
                                                    "EVENT_TYPE": "purchase"}])
    assert "i5" not in _passing(catalogue, text, user_id="u1")


def test_only_the_100_most_recent_events_per_event_type_count(catalogue):
    ds = catalogue.dataset("INTERACTIONS")
    ds.put_records([{"USER_ID": "u9", "ITEM_ID": f"x{k}", "TIMESTAMP": 1000 + k, "EVENT_TYPE": "click"}
                    for k in range(150)])
    ds.put_records([{"USER_ID": "u9", "ITEM_ID": "old-view", "TIMESTAMP": 1, "EVENT_TYPE": "view"}])
    passing = _passing(catalogue, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', user_id="u9")
    assert {f"x{k}" for k in range(50)} <= passing  # the 50 oldest clicks fall outside the quota
    assert not {f"x{k}" for k in range(50, 150)} & passing
    assert "old-view" not in passing  # the quota is per event type: the one old view still counts
    assert len(recent_targets(catalogue, "u9", ["click"])) == 100


def test_event_types_match_case_insensitively_and_other_values_do_not(catalogue):
    assert _passing(catalogue, 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("RATING")', user_id="u1") == {"i4"}
    assert _passing(catalogue, 'INCLUDE ItemID WHERE Items.GENRE IN ("comedy")') == set()


def test_keywords_and_dataset_prefixes_are_case_insensitive_as_the_console_writes_them(catalogue):
    text = 'Exclude ItemID WHERE Interactions.event_type IN ("click") | include itemid where items.genre in ("Comedy")'
    assert _passing(catalogue, text, user_id="u1") == {"i4"}


def test_a_categorical_field_matches_any_of_its_pipe_separated_values(catalogue):
    assert _passing(catalogue, 'INCLUDE ItemID WHERE Items.GENRES IN ("Horror")') == {"i3", "i4"}


def test_expression_order_does_not_matter(catalogue):
    a = 'INCLUDE ItemID WHERE Items.GENRE IN ("Drama") | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("stream")'
    b = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("stream") | INCLUDE ItemID WHERE Items.GENRE IN ("Drama")'
    assert _passing(catalogue, a, user_id="u1") == _passing(catalogue, b, user_id="u1") == {"i5"}


def test_an_include_placeholder_without_a_value_is_refused(catalogue):
    with pytest.raises(InvalidInputException, match=r"\$GENRE"):
        _passing(catalogue, 'INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)')


def test_an_exclude_expression_without_its_values_is_skipped(catalogue):
    text = 'EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | EXCLUDE ItemID WHERE Items.OWNER IN ("partner")'
    assert _passing(catalogue, text) == {"i1", "i3", "i5", "i6"}


def test_filter_values_take_quoted_lists_and_plain_numbers():
    assert parse_filter_values({"G": '"comedy", "drama",  "horror"', "P": "10", "E": "", "Q": '"a,b"'}) == {
        "G": ["comedy", "drama", "horror"], "P": ["10"], "E": [], "Q": ["a,b"]}


def test_a_numeric_placeholder_must_be_a_number(catalogue):
    with pytest.raises(InvalidInputException, match="must be a number"):
        _passing(catalogue, 'INCLUDE ItemID WHERE Items.PRICE <= $PRICE', filter_values={"PRICE": '"cheap"'})


def test_current_item_conditions_match_nothing_without_a_request_item(catalogue):
    assert _passing(catalogue, 'INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE') == set()


def test_an_if_clause_is_false_for_a_user_without_a_users_row(catalogue):
    text = 'EXCLUDE ItemID WHERE Items.GENRE IN ("Comedy") IF CurrentUser.AGE > 1'
    assert _passing(catalogue, text, user_id="u3") == set(catalogue.items.ids)


def test_without_an_event_type_column_only_the_wildcard_matches():
    data = DatasetGroupData()
    schema = parse_schema(json.dumps({"type": "record", "name": "Interactions", "version": "1.0",
                                      "namespace": "com.amazonaws.personalize.schema",
                                      "fields": [{"name": "USER_ID", "type": "string"},
                                                 {"name": "ITEM_ID", "type": "string"},
                                                 {"name": "TIMESTAMP", "type": "long"}]}))
    data.create_dataset("INTERACTIONS", schema).put_records(
        [{"USER_ID": "u", "ITEM_ID": i, "TIMESTAMP": 1} for i in ("a", "b")] + [
            {"USER_ID": "v", "ITEM_ID": "c", "TIMESTAMP": 1}])
    assert _passing(data, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', user_id="u") == {"c"}
    assert _passing(data, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")', user_id="u") == {"a", "b", "c"}


def test_the_distinct_fields_of_a_filter_are_reported_for_the_group_limit(catalogue):
    _, fields = compile_filter('INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE IF CurrentUser.AGE > 1 | '
                               'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', catalogue)
    assert fields == {("ITEMS", "PRICE"), ("USERS", "AGE"), ("INTERACTIONS", "EVENT_TYPE")}
