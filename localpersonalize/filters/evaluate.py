"""Evaluation of a checked filter expression over a dataset group's columnar data (spec 50 §5).

Everything is vectorised over numpy columns (``Dataset.codes/column/null_mask``): a condition on an
Items field is one pass over that column, then the matching rows are scattered onto a boolean mask over
the candidate IDs (items, users or actions). Nothing is cached between requests except the
``|``-split index of categorical dictionaries, so streamed records (PutEvents, PutItems, ...) are visible
to the very next request (guide L16420-L16424 allows seconds / 20 minutes; the emulator is immediate).
"""

from __future__ import annotations

import csv
import operator
import weakref
from typing import Iterable, Mapping

import numpy as np

from ..errors import InvalidInputException
from .grammar import Condition, Expression, FilterExpression, Value

__all__ = ["allowed_mask", "parse_filter_values", "recent_targets", "RECENT_PER_EVENT_TYPE"]

#: Most recent interactions per user per event type a filter (or a domain use case's automatic
#: exclusion) looks at: 100 item interactions, 300 action interactions (guide L16447, L16451).
RECENT_PER_EVENT_TYPE = {"INTERACTIONS": 100, "ACTION_INTERACTIONS": 300}
#: The ID column each dataset contributes to a target kind.
_ID_FIELD = {("ITEMS", "ItemID"): "ITEM_ID", ("USERS", "UserID"): "USER_ID", ("ACTIONS", "ActionID"): "ACTION_ID",
             ("INTERACTIONS", "ItemID"): "ITEM_ID", ("INTERACTIONS", "UserID"): "USER_ID",
             ("ACTION_INTERACTIONS", "ActionID"): "ACTION_ID"}
_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}
_NUMERIC = ("int", "long", "float", "double")
_parts_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _Missing(Exception):
    """A placeholder without a value in ``filterValues``."""


def parse_filter_values(values: Mapping[str, str] | None) -> dict[str, list[str]]:
    """``filterValues`` of a request -> parameter name -> list of values.

    Each value is the guide's comma-separated list of double-quoted strings (``"\\"comedy\\", \\"drama\\""``,
    guide L17009-L17060); unquoted elements are accepted too (numbers such as ``"10"``, the console's
    form). Surrounding blanks are dropped; an empty string gives no values.
    """
    out = {}
    for name, text in (values or {}).items():
        text = text.strip()
        out[name] = [] if not text else [v.strip() for v in next(csv.reader([text], skipinitialspace=True))]
    return out


def recent_targets(data, user_id: str | None, event_types: Iterable[str] | None,
                   dataset: str = "INTERACTIONS") -> np.ndarray:
    """int32 codes of the items (actions) ``user_id`` interacted with under ``event_types``, looking only
    at the user's :data:`RECENT_PER_EVENT_TYPE` most recent events of each event type (bulk and streamed
    alike). ``event_types``: compared case-insensitively (guide L16480); ``None`` or a ``"*"`` among them
    means every type (events without an EVENT_TYPE count as one more type). Unknown user → empty."""
    targets, events = _user_event_rows(data, user_id, dataset)
    if not len(targets):
        return targets
    keep = _event_lut(data.dataset(dataset), event_types)[events]
    return np.unique(targets[keep]).astype(np.int32)


def _user_event_rows(data, user_id, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """(target codes, event-type codes) of the user's most recent events per event type."""
    ds = data.dataset(dataset)
    rows = data.user_rows(user_id, dataset)      # the user's own events and those of their sessions
    if not len(rows):
        return np.empty(0, np.int32), np.empty(0, np.int32)
    target = ds.codes("ITEM_ID" if dataset == "INTERACTIONS" else "ACTION_ID")[rows]
    events = ds.codes("EVENT_TYPE")[rows] if ds.schema.field("EVENT_TYPE") else np.full(len(rows), -1, np.int32)
    limit = RECENT_PER_EVENT_TYPE[dataset]
    if len(rows) > limit:  # keep the newest `limit` of each event type
        order = np.lexsort((ds.codes("TIMESTAMP")[rows], events))  # by event type, then oldest first
        ev = events[order]
        last = np.r_[ev[1:] != ev[:-1], True]
        group_end = np.flatnonzero(last)[np.cumsum(np.r_[0, last[:-1]])]
        keep = order[group_end - np.arange(len(order)) < limit]
        target, events = target[keep], events[keep]
    return target, events


def _event_lut(ds, event_types) -> np.ndarray:
    """bool[len(EVENT_TYPE dictionary) + 1]: which event-type codes match (last slot: no event type)."""
    names = ds.dictionary("EVENT_TYPE").ids if ds.schema.field("EVENT_TYPE") else []
    if event_types is None or "*" in event_types:
        return np.ones(len(names) + 1, bool)
    wanted = {t.lower() for t in event_types}
    return np.array([n.lower() in wanted for n in names] + [False], bool)


def _string_lut(ds, field, values: list[str]) -> np.ndarray:
    """bool[len(dictionary) + 1]: dictionary codes of ``field`` whose value is one of ``values``
    (exact, case-sensitive); for a categorical field any of its ``|``-separated values may match."""
    index = ds.dictionary(field.name)
    lut = np.zeros(len(index) + 1, bool)
    if not field.categorical:
        codes = [c for c in (index.code(v, add=False) for v in values) if c >= 0]
        lut[codes] = True
        return lut
    size, parts = _parts_cache.get(index, (-1, None))
    if size != len(index):
        parts = {}
        for code, text in enumerate(index.ids):
            for part in text.split("|"):
                parts.setdefault(part, []).append(code)
        _parts_cache[index] = (len(index), parts)
    for v in values:
        lut[parts.get(v, [])] = True
    return lut


def _numbers(values: list[str], where: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in values], np.float64)
    except ValueError:
        raise InvalidInputException(f"The filter value of {where} must be a number; got {values}.") from None


def _rows_matching(ds, cond: Condition, operands: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """bool[n rows] (or bool[len(rows)]) where ``<field> <op> <operands>`` holds; nulls never match a
    positive condition (so they do match ``NOT IN`` / ``!=``)."""
    field = ds.schema.field(cond.field)
    col = ds.codes(cond.field)
    if rows is not None:
        col = col[rows]
    negate = cond.op in ("NOT IN", "!=")
    op = {"NOT IN": "IN", "!=": "="}.get(cond.op, cond.op)
    if field.type == "string":
        hit = _string_lut(ds, field, operands)[col]
    else:
        null = ds.null_mask(cond.field)
        null = null[rows] if rows is not None else null
        x = col.astype(np.float64, copy=False)
        vals = _numbers(operands, f"{cond.dataset}.{cond.field}")
        if op == "IN" or len(vals) != 1:
            if op not in ("IN", "="):
                raise InvalidInputException(
                    f"{cond.dataset}.{cond.field} {cond.op} needs exactly one value; got {operands}.")
            hit = np.isin(x, vals)
        else:
            hit = _COMPARE[op](x, vals[0])
        hit &= ~null
    return ~hit if negate else hit


def _operands(values: tuple[Value, ...], params: dict, current_item) -> list[str]:
    out = []
    for v in values:
        if v.kind == "param":
            if v.text not in params:
                raise _Missing(v.text)
            out.extend(params[v.text])
        elif v.kind == "current_item":
            out.extend(current_item(v.text))
        else:
            out.append(v.text)
    return out


class _Request:
    """What one evaluation needs: the data, the request's user/item and the parsed filter values."""

    def __init__(self, data, user_id, item_id, params):
        self.data, self.user_id, self.item_id, self.params = data, user_id, item_id, params
        self._events = {}

    def current_item(self, field_name: str) -> list[str]:
        """The request item's values of an Items field (``|``-split when categorical); [] when unknown."""
        ds = self.data.dataset("ITEMS")
        code = self.data.items.code(self.item_id, add=False) if self.item_id is not None else -1
        if ds is None or code < 0:
            return []
        rows = np.flatnonzero(ds.codes("ITEM_ID") == code)
        if not len(rows) or ds.null_mask(field_name)[rows[0]]:
            return []
        field = ds.schema.field(field_name)
        value = ds.column(field_name)[rows[0]]
        if field.type == "string":
            return [] if value is None else (value.split("|") if field.categorical else [value])
        return [] if value != value else [repr(float(value))]  # NaN = null

    def user_events(self, dataset):
        if dataset not in self._events:
            self._events[dataset] = _user_event_rows(self.data, self.user_id, dataset)
        return self._events[dataset]

    def if_holds(self, conditions: tuple[Condition, ...]) -> bool:
        """The IF clause: every CurrentUser condition holds for the request's user (false without a
        Users row for them)."""
        ds = self.data.dataset("USERS")
        code = self.data.users.code(self.user_id, add=False) if self.user_id is not None else -1
        rows = np.flatnonzero(ds.codes("USER_ID") == code)[:1] if ds is not None and code >= 0 else []
        if not len(rows):
            return False
        for cond in conditions:
            cond = Condition("USERS", cond.field, cond.op, cond.values)
            if not _rows_matching(ds, cond, _operands(cond.values, self.params, self.current_item), rows)[0]:
                return False
        return True


def _condition_mask(req: _Request, target: str, cond: Condition, n: int) -> np.ndarray:
    """bool[n] over the target IDs for one WHERE condition."""
    operands = _operands(cond.values, req.params, req.current_item)
    out = np.zeros(n, bool)
    ds = req.data.dataset(cond.dataset)
    if ds is None:
        return out
    id_field = _ID_FIELD[(cond.dataset, target)]
    if cond.dataset in RECENT_PER_EVENT_TYPE:  # EVENT_TYPE IN/NOT IN (types)
        if target == "UserID":  # users with such events, with any item
            targets = ds.codes(id_field)
            events = ds.codes("EVENT_TYPE") if ds.schema.field("EVENT_TYPE") else np.full(len(targets), -1, np.int32)
        else:  # the requesting user's own recent events
            targets, events = req.user_events(cond.dataset)
        hit = _event_lut(ds, operands)[events]
        if cond.op == "NOT IN":
            hit = ~hit if "*" not in operands else np.zeros(len(hit), bool)
        sel = targets[hit]
    else:
        sel = ds.codes(id_field)[_rows_matching(ds, cond, operands)]
    out[sel[sel < n]] = True
    return out


def _expression_mask(req: _Request, e: Expression, n: int) -> np.ndarray:
    """bool[n]: OR over the AND-groups of the expression's conditions."""
    result = np.zeros(n, bool)
    for group in e.groups:
        g = _condition_mask(req, e.target, group[0], n)
        for cond in group[1:]:
            g &= _condition_mask(req, e.target, cond, n)
        result |= g
    return result


def allowed_mask(expr: FilterExpression, data, n: int, *, user_id: str | None = None,
                 item_id: str | None = None, filter_values: Mapping[str, str] | None = None) -> np.ndarray:
    """bool[n] over the first ``n`` codes of the target's ID index (items for ItemID, users for UserID,
    actions for ActionID): True where the filter lets the ID through.

    ``expr``: a filter checked by :func:`~.check.check`; ``data``: the dataset group's
    ``DatasetGroupData``; ``user_id``: the requesting user (Interactions conditions and IF CurrentUser);
    ``item_id``: the request item (``CurrentItem``); ``filter_values``: the request's ``filterValues``.

    Semantics (guide "Combining multiple expressions", L16748-L16782): each ``|`` part is evaluated on
    its own; the result is (union of the INCLUDE parts, or everything when there is none) minus (union of
    the EXCLUDE parts); order does not matter. A part whose IF clause is false is left out; an EXCLUDE
    part with a placeholder missing from ``filterValues`` is left out (guide L16878).

    Raises:
        InvalidInputException: an INCLUDE part's placeholder has no value (guide L16878: INCLUDE
            expressions need every parameter), or a numeric placeholder got a non-number.
    """
    req = _Request(data, user_id, item_id, parse_filter_values(filter_values))
    include = None
    exclude = np.zeros(n, bool)
    for e in expr.expressions:
        try:
            if e.if_conditions and not req.if_holds(e.if_conditions):
                continue
            mask = _expression_mask(req, e, n)
        except _Missing as missing:
            if e.action == "INCLUDE":
                raise InvalidInputException(
                    f"Provide a value for the filter parameter ${missing} in filterValues: every parameter of "
                    "an INCLUDE expression needs a value.") from None
            continue
        if e.action == "INCLUDE":
            include = mask if include is None else include | mask
        else:
            exclude |= mask
    allowed = np.ones(n, bool) if include is None else include
    return allowed & ~exclude
