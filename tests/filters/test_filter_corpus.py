"""The guide's filter expressions (spec 50 §3.4, guide L16582-L16782, L12814-L12845, L19982) as a corpus:
valid ones evaluated against the small catalogue of conftest.py with the expected ID sets, invalid ones
with the expected error."""

from __future__ import annotations

import pytest

from localpersonalize.errors import InvalidInputException
from localpersonalize.filters import allowed_mask, compile_filter

from .conftest import ALL_ITEMS

ITEMS = set(ALL_ITEMS)

VALID = [
    # (expression, request: userId / itemId / filterValues, expected IDs that pass)
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)',
     dict(user_id="u1", filter_values={"EVENT_TYPE": '"click"'}), ITEMS - {"i1"}),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")', dict(user_id="u1"), ITEMS - {"i1", "i2"}),
    ('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', dict(user_id="u1"), {"i1"}),
    ('EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)', dict(filter_values={"CATEGORY": '"clothing"'}),
     ITEMS - {"i1", "i2"}),
    ('INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN\nCurrentItem.GENRE',
     dict(item_id="i4"), {"i1"}),
    ('EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoe") AND Items.CATEGORY_L2 NOT IN\n("boot")', {},
     ITEMS - {"i2", "i4"}),
    ('INCLUDE ItemID WHERE Items.PRICE <= $PRICE', dict(filter_values={"PRICE": '"20"'}), {"i1", "i2"}),
    ('INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP < $DATE', dict(filter_values={"DATE": "300"}), {"i1", "i2"}),
    ('INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)', dict(filter_values={"GENRE": '"Comedy", "Horror"'}),
     {"i1", "i3", "i4"}),
    ('INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.CREATION_TIMESTAMP >\n$DATE',
     dict(item_id="i5", filter_values={"DATE": '"150"'}), {"i2", "i3", "i4"}),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE = $AGE',
     dict(user_id="u1", filter_values={"GENRE": '"Comedy"', "AGE": '"30"'}), ITEMS - {"i1", "i4"}),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE = $AGE',
     dict(user_id="u1", filter_values={"GENRE": '"Comedy"', "AGE": '"31"'}), ITEMS),
    ('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("watch") AND Items.CATEGORY_L2 IN ("luxury")\nIF CurrentUser.AGE > 18',
     dict(user_id="u1"), {"i3"}),
    ('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("watch") AND Items.CATEGORY_L2 IN ("luxury")\nIF CurrentUser.AGE > 18',
     dict(user_id="u2"), ITEMS),
    ('INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)', dict(filter_values={"MEMBERSHIP": '"gold"'}),
     {"u1"}),
    ('EXCLUDE UserID WHERE Users.AGE < $AGE', dict(filter_values={"AGE": "18"}), {"u1", "u3"}),
    ('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click", "rating")', {}, {"u1", "u2"}),
    ('EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)', dict(filter_values={"EVENT_TYPE": '"purchased"'}),
     {"u1", "u2"}),
    ('INCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ($EVENT_TYPE)',
     dict(user_id="u1", filter_values={"EVENT_TYPE": '"TAKEN"'}), {"a1"}),
    ('EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ("NOT_TAKEN")', dict(user_id="u1"), {"a1", "a3"}),
    ('EXCLUDE ActionID WHERE Actions.CATEGORY IN ($CATEGORY)', dict(filter_values={"CATEGORY": '"loyalty"'}), {"a2"}),
    ('INCLUDE ActionID WHERE Actions.VALUE > ($VALUE)', dict(filter_values={"VALUE": '"4"'}), {"a1", "a2"}),
    ('EXCLUDE ActionID WHERE Actions.VALUE < ($VALUE) IF CurrentUser.MEMBERSHIP = $PREMIUM',
     dict(user_id="u1", filter_values={"VALUE": '"6"', "PREMIUM": '"Premium"'}), {"a1"}),
    ('INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | INCLUDE ItemID WHERE\nInteractions.EVENT_TYPE IN ("favorite")',
     dict(user_id="u1", filter_values={"CATEGORY": '"toys"'}), {"i3", "i4"}),
    ('INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | EXCLUDE ItemID WHERE\nInteractions.EVENT_TYPE IN ("click", "stream")',
     dict(user_id="u1", filter_values={"GENRE": '"Drama"'}), {"i5"}),
    ('EXCLUDE ItemID WHERE Items.GENRES IN ($GENRES) AND Items.DOWNLOAD_COUNT > 200 IF CurrentUser.AGE > 17',
     dict(user_id="u1", filter_values={"GENRES": '"Drama"'}), ITEMS - {"i1"}),
    ('INCLUDE ItemID WHERE Items.OWNER IN ("in-house")', {}, {"i1", "i3", "i5"}),
    ('INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP > $DATE', dict(filter_values={"DATE": '"300"'}), {"i4", "i5"}),
    ('INCLUDE ItemID WHERE Items.CATEGORY IN ("clothing") AND Items.AVAILABLE IN ("True")', {}, {"i1"}),
    ('INCLUDE ItemID WHERE Items.CATEGORY IN ("clothing") OR Items.CREATION_TIMESTAMP > $DATE',
     dict(filter_values={"DATE": '"400"'}), {"i1", "i2", "i5"}),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchased")', dict(user_id="u3"), ITEMS - {"i6"}),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE)', dict(filter_values={"GENRE": '"Comedy"'}), ITEMS - {"i1", "i4"}),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', dict(user_id="u1"), {"i5", "i6"}),
]

INVALID = [
    # (expression, words the InvalidInputException message must contain)
    ('INCLUDE ItemID WHERE Items.GENRE NOT IN ($GENRE)',
     "Cannot create filter. Invalid input symbol: $GENRE. Placeholders are not supported for the NOT_IN operator."),
    ('INCLUDE ActionID WHERE Action.MEMBERSHIP_LEVEL IN ("Premium") IF CurrentUser.MEMBERSHIP = $PREMIUM',
     "Cannot create filter. Invalid expression"),
    ('EXCLUDE ItemID WHERE Items.IS_NEW IN ("True")', "Cannot create filter. Invalid expression"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("Drama") AND Interactions.EVENT_TYPE IN ("click")', "must use the dataset of its first condition"),
    ('EXCLUDE ItemID WHERE Items.DESCRIPTION IN ("x")', "textual"),
    ('EXCLUDE ItemID WHERE Interactions.TIMESTAMP > 3', "only use EVENT_TYPE"),
    ('EXCLUDE ActionID WHERE Actions.REPEAT_FREQUENCY > 1', "automatically"),
    ('EXCLUDE ItemID WHERE Items.COLOR IN ("red")', "no field COLOR"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ("*")', '"*"'),
    ('INCLUDE ItemID WHERE Users.AGE > 3', "ItemID expressions filter on Interactions or Items"),
    ('INCLUDE ItemID WHERE CurrentUser.AGE > 3', "Invalid expression"),
    ('INCLUDE ItemID WHERE Items.PRICE > 1 IF CurrentUser.AGE > 1 IF CurrentUser.AGE < 3', "Invalid expression"),
    ('INCLUDE ItemID Items.GENRE IN ("Drama")', "Invalid expression"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ()', "Invalid expression"),
    ('INCLUDE ItemID WHERE Items.GENRE CONTAINS ("Drama")', "Invalid expression"),
    ("INCLUDE ItemID WHERE Items.GENRE IN ('Drama')", "Invalid expression"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ($A, "Drama")', "one placeholder"),
    ('INCLUDE ItemID WHERE Items.GENRE < 3', "numeric field"),
    ('INCLUDE ItemID WHERE Items.PRICE > "cheap"', "Invalid expression"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("x") | EXCLUDE UserID WHERE Users.AGE < 3', "same kind"),
    ('INCLUDE UserID WHERE Users.AGE > 3 IF CurrentUser.AGE > 3', "IF"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") AND Items.PRICE > 1 AND Items.OWNER IN ("b") AND Items.AVAILABLE '
     'IN ("c") AND Items.CATEGORY IN ("d") AND Items.CATEGORY_L1 IN ("e")', "at most 5 distinct"),
]


def _ids(data, expr, target, kw):
    index = {"ItemID": data.items, "UserID": data.users, "ActionID": data.actions}[target]
    mask = allowed_mask(expr, data, len(index), **kw)
    return {index.ids[i] for i in mask.nonzero()[0]}


@pytest.mark.parametrize("text, request_, expected", VALID, ids=[f"{i}:{v[0][:50]}" for i, v in enumerate(VALID)])
def test_guide_example_filters_give_the_expected_ids(catalogue, text, request_, expected):
    expr, _ = compile_filter(text, catalogue)
    assert _ids(catalogue, expr, expr.target, request_) == expected


@pytest.mark.parametrize("text, message", INVALID, ids=[f"{i}:{v[0][:50]}" for i, v in enumerate(INVALID)])
def test_invalid_filter_expressions_are_refused_with_the_documented_error(catalogue, text, message):
    with pytest.raises(InvalidInputException) as err:
        compile_filter(text, catalogue)
    assert err.value.message.startswith("Cannot create filter.")
    assert message in err.value.message
