"""The filter language of Personalize (spec 50 §1-§6): parse with a real grammar (lark), check against
the dataset group's schemas at CreateFilter time, evaluate over the group's columnar data per request.

Public API
----------
``parse(text) -> FilterExpression``                       grammar.py (syntax errors: InvalidInputException)
``check(expr, schemas) -> (FilterExpression, fields)``    check.py (schema rules, 5-field limit)
``compile_filter(text, data) -> (FilterExpression, fields)`` both, against a ``DatasetGroupData``
``allowed_mask(expr, data, n, user_id=, item_id=, filter_values=) -> bool[n]``   evaluate.py
``recent_targets(data, user_id, event_types)``            a user's recent items per event type (≤100 each)
``parse_filter_values(filterValues)``
"""

from __future__ import annotations

from .check import MAX_FIELDS_PER_FILTER, check
from .evaluate import RECENT_PER_EVENT_TYPE, allowed_mask, parse_filter_values, recent_targets
from .grammar import Condition, Expression, FilterExpression, Value, parse

__all__ = ["parse", "check", "compile_filter", "allowed_mask", "parse_filter_values", "recent_targets",
           "FilterExpression", "Expression", "Condition", "Value", "MAX_FIELDS_PER_FILTER",
           "RECENT_PER_EVENT_TYPE"]


def compile_filter(text: str, data) -> tuple[FilterExpression, frozenset]:
    """Parse ``text`` and check it against the schemas of ``data`` (a ``DatasetGroupData``).

    Returns ``(expression, fields)`` as :func:`check` does. Raises InvalidInputException.
    """
    schemas = {dtype: ds.schema for dtype, ds in data.datasets.items()}
    return check(parse(text), schemas)
