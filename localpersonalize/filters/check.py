"""Create-time rules of a filter expression that need the dataset group's schemas (spec 50 §4,
guide "Guidelines and requirements" L16478-L16486 and the troubleshooting messages L19978-L19992).

Every rule raises :class:`~localpersonalize.errors.InvalidInputException` with a message starting
``Cannot create filter.``, as the guide's documented messages do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from ..errors import InvalidInputException
from .grammar import PREFIX, Condition, Expression, FilterExpression, Value

__all__ = ["check", "MAX_FIELDS_PER_FILTER"]

#: Distinct dataset fields one filter may use, all expressions together (guide L16484).
MAX_FIELDS_PER_FILTER = 5
#: Datasets each target may filter on (guide "ItemID/ActionID/UserID" and the examples L16582-L16746).
_TARGET_DATASETS = {"ItemID": ("INTERACTIONS", "ITEMS"), "ActionID": ("ACTION_INTERACTIONS", "ACTIONS"),
                    "UserID": ("USERS", "INTERACTIONS")}
#: Action fields Personalize applies itself and never lets a filter use (guide L16486).
_AUTOMATIC_ACTION_FIELDS = ("ACTION_EXPIRATION_TIMESTAMP", "EXPIRATION_TIMESTAMP", "REPEAT_FREQUENCY")
_NUMERIC = ("int", "long", "float", "double")
_EVENT_DATASETS = ("INTERACTIONS", "ACTION_INTERACTIONS")


def _fail(detail: str):
    raise InvalidInputException(f"Cannot create filter. {detail}")


def _field(schemas: Mapping, dataset: str, name: str, where: str):
    """The schema field of ``<dataset>.<name>`` (case-insensitive), checked as a filterable field."""
    schema = schemas.get(dataset)
    if schema is None:
        _fail(f"Invalid expression: {where} refers to the {PREFIX[dataset]} dataset, which this dataset group "
              "does not have. Create the dataset before the filter.")
    by_upper = {f.name.upper(): f for f in schema.fields}
    f = by_upper.get(name.upper())
    if f is None:
        if dataset in _EVENT_DATASETS and name.upper() == "EVENT_TYPE":
            return None  # no EVENT_TYPE column: every event has the empty type, which only "*" matches
        _fail(f"Invalid expression: the {PREFIX[dataset]} dataset has no field {name} ({where}).")
    if f.type == "boolean":
        _fail(f"Invalid expression: {PREFIX[dataset]}.{f.name} is a boolean field, and filters cannot use "
              "boolean fields. Use a string field with the values \"True\" and \"False\", or an int or long "
              "field with 0 and 1.")
    if f.textual:
        _fail(f"Invalid expression: {PREFIX[dataset]}.{f.name} is a textual field; filters cannot use "
              "unstructured text.")
    if dataset == "ACTIONS" and f.name.upper() in _AUTOMATIC_ACTION_FIELDS:
        _fail(f"Invalid expression: {f.name} is applied to action recommendations automatically and cannot "
              "be used in a filter.")
    return f


def _check_values(cond: Condition, f, where: str, schemas: Mapping) -> None:
    params = [v for v in cond.values if v.kind == "param"]
    if cond.op == "NOT IN" and params:
        _fail(f"Invalid input symbol: ${params[0].text}. Placeholders are not supported for the NOT_IN operator.")
    if params and len(cond.values) > 1:
        _fail(f"Invalid expression: {where} mixes the placeholder ${params[0].text} with other values; a value "
              "list takes either fixed values or one placeholder parameter.")
    for v in cond.values:
        if v.kind == "string" and v.text == "*" and not (cond.dataset == "INTERACTIONS" and cond.op == "IN"):
            _fail(f"Invalid expression: \"*\" ({where}) can only be used with Interactions.EVENT_TYPE IN.")
        if v.kind == "current_item":
            item = _field(schemas, "ITEMS", v.text, f"CurrentItem.{v.text}")
            v_numeric = item is not None and item.type in _NUMERIC
            if f is not None and (f.type in _NUMERIC) != v_numeric:
                _fail(f"Invalid expression: {where} compares fields of different types.")
    numeric = f is not None and f.type in _NUMERIC
    if cond.op in ("<", "<=", ">", ">="):
        if not numeric:
            _fail(f"Invalid expression: {where} uses {cond.op}, which needs a numeric field.")
        if any(v.kind == "string" for v in cond.values):
            _fail(f"Invalid expression: {where} compares a number with a string.")
    if numeric:
        for v in cond.values:
            if v.kind == "string":
                try:
                    float(v.text)
                except ValueError:
                    _fail(f"Invalid expression: {where} compares the numeric field with \"{v.text}\".")


def _resolve(cond: Condition, schemas: Mapping, target: str) -> Condition:
    where = f"{PREFIX[cond.dataset]}.{cond.field}"
    dataset = "USERS" if cond.dataset == "CURRENT_USER" else cond.dataset
    f = _field(schemas, dataset, cond.field, where)
    if cond.dataset in _EVENT_DATASETS:
        if cond.field.upper() != "EVENT_TYPE":
            _fail(f"Invalid expression: {where}: filters on {PREFIX[cond.dataset]} can only use EVENT_TYPE.")
        if any(v.kind == "current_item" for v in cond.values):
            _fail(f"Invalid expression: {where} cannot be compared with CurrentItem.")
        if cond.op not in ("IN", "NOT IN"):
            _fail(f"Invalid expression: {where} can only be used with IN or NOT IN.")
    if any(v.kind == "current_item" for v in cond.values) and cond.dataset != "ITEMS":
        _fail(f"Invalid expression: CurrentItem can only be compared with Items fields ({where}).")
    _check_values(cond, f, where, schemas)
    values = tuple(Value("current_item", _field(schemas, "ITEMS", v.text, where).name) if v.kind == "current_item"
                   else v for v in cond.values)
    return replace(cond, field=f.name if f is not None else "EVENT_TYPE", values=values)


def _check_expression(e: Expression, schemas: Mapping) -> Expression:
    first = e.dataset
    if first not in _TARGET_DATASETS[e.target]:
        allowed = " or ".join(PREFIX[d] for d in _TARGET_DATASETS[e.target])
        _fail(f"Invalid expression: {e.target} expressions filter on {allowed}, not {PREFIX[first]}.")
    for c in e.conditions:
        if c.dataset != first:
            _fail(f"Invalid expression: every condition of an expression must use the dataset of its first "
                  f"condition ({PREFIX[first]}); {PREFIX[c.dataset]}.{c.field} does not. Combine expressions "
                  "on different datasets with |.")
    if e.if_conditions and e.target == "UserID":
        _fail("Invalid expression: IF CurrentUser conditions apply to item and action recommendations only.")
    groups = tuple(tuple(_resolve(c, schemas, e.target) for c in g) for g in e.groups)
    ifs = tuple(_resolve(c, schemas, e.target) for c in e.if_conditions)
    return replace(e, groups=groups, if_conditions=ifs)


def check(expr: FilterExpression, schemas: Mapping) -> tuple[FilterExpression, frozenset]:
    """Check ``expr`` against the dataset group's ``schemas`` (canonical dataset type -> ``Schema``).

    Returns ``(resolved, fields)``: the expression with every field name spelled as in its schema, and
    the distinct ``(dataset type, field)`` pairs it uses (``CurrentUser`` fields count as Users fields,
    ``CurrentItem`` fields as Items fields) for the group-wide limit.

    Raises:
        InvalidInputException: a dataset the group lacks, an unknown, boolean, textual or automatic
            field; conditions of one expression on different datasets; a dataset that does not fit the
            target; fields other than EVENT_TYPE on interactions; ``NOT IN`` with a placeholder (the
            documented message); mixed targets across ``|``; more than 5 distinct fields.
    """
    targets = {e.target for e in expr.expressions}
    if len(targets) > 1:
        _fail(f"Invalid expression: all expressions of a filter must filter the same kind of IDs; found "
              f"{', '.join(sorted(targets))}.")
    resolved = FilterExpression(expr.text, tuple(_check_expression(e, schemas) for e in expr.expressions))
    fields = set()
    for e in resolved.expressions:
        for c in e.conditions + e.if_conditions:
            fields.add(("USERS" if c.dataset == "CURRENT_USER" else c.dataset, c.field.upper()))
            fields.update(("ITEMS", v.text.upper()) for v in c.values if v.kind == "current_item")
    if len(fields) > MAX_FIELDS_PER_FILTER:
        names = ", ".join(f"{PREFIX[d]}.{f}" for d, f in sorted(fields))
        _fail(f"Invalid expression: a filter can use at most {MAX_FIELDS_PER_FILTER} distinct dataset fields; "
              f"this one uses {len(fields)} ({names}).")
    return resolved, frozenset(fields)
