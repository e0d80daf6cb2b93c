"""The filter expression language of Personalize, parsed with lark (spec 50 §3).

``parse(text)`` turns a ``filterExpression`` into a :class:`FilterExpression` (plain frozen dataclasses),
or raises :class:`~localpersonalize.errors.InvalidInputException` with the service's
``Cannot create filter. ...`` wording. Shape of the language (guide L16487, spec 50 §3.2)::

    EXCLUDE|INCLUDE ItemID|ActionID|UserID WHERE <dataset>.<field> IN|NOT IN (<values>) [AND|OR ...]
        [IF CurrentUser.<field> <op> <value> [AND ...]]  [| <another expression> ...]

Keywords and dataset prefixes are case-insensitive (the console writes ``Exclude``,
``Interactions.event_type``, ``currentUser.AGE``); field names are resolved against the schemas later
(:mod:`.check`); parameter names are case-sensitive (guide "Parameters" note). ``AND`` binds tighter
than ``OR`` (the guide is silent; spec 50 §3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput

from ..errors import InvalidInputException

__all__ = ["parse", "FilterExpression", "Expression", "Condition", "Value", "DATASETS"]

#: Prefix in an expression (lower case) -> canonical dataset type (spec 50 §2).
DATASETS = {"interactions": "INTERACTIONS", "items": "ITEMS", "users": "USERS", "actions": "ACTIONS",
            "action_interactions": "ACTION_INTERACTIONS"}
#: The prefix as the guide spells it, for messages.
PREFIX = {"INTERACTIONS": "Interactions", "ITEMS": "Items", "USERS": "Users", "ACTIONS": "Actions",
          "ACTION_INTERACTIONS": "Action_Interactions", "CURRENT_USER": "CurrentUser", "CURRENT_ITEM": "CurrentItem"}
TARGETS = {"itemid": "ItemID", "actionid": "ActionID", "userid": "UserID"}

# The grammar of spec 50 §3.3 (checked there against every expression of the guide).
_GRAMMAR = r"""
?start: filter
filter: expression ("|" expression)*
expression: ACTION TARGET _WHERE condition (connector condition)* if_clause?
connector: AND | OR
ACTION: "INCLUDE"i | "EXCLUDE"i
TARGET: "ItemID"i | "ActionID"i | "UserID"i
AND: "AND"i
OR: "OR"i
_WHERE: "WHERE"i
_IF: "IF"i
NOT: "NOT"i
_IN: "IN"i
condition: field_ref NOT? _IN in_rhs          -> membership
         | field_ref COMP_OP scalar_rhs       -> comparison
in_rhs: "(" list_item ("," list_item)* ")"    -> value_list
      | current_item_ref                       -> item_ref_rhs
?list_item: STRING | NUMBER | PARAM
?scalar_rhs: NUMBER | STRING | PARAM | "(" PARAM ")" | current_item_ref
if_clause: _IF user_condition (AND user_condition)*
user_condition: current_user_ref COMP_OP scalar_rhs                              -> user_comparison
              | current_user_ref NOT? _IN "(" list_item ("," list_item)* ")"    -> user_membership
field_ref: DATASET "." FIELD
current_item_ref: CURRENT_ITEM "." FIELD
current_user_ref: CURRENT_USER "." FIELD
DATASET.2: "Action_Interactions"i | "Interactions"i | "Items"i | "Users"i | "Actions"i
CURRENT_ITEM.2: "CurrentItem"i
CURRENT_USER.2: "CurrentUser"i
FIELD: /[A-Za-z_][A-Za-z0-9_]*/
PARAM: /\$[A-Za-z0-9_]+/
COMP_OP: "<=" | ">=" | "!=" | "=" | "<" | ">"
STRING: /"[^"]*"/
NUMBER: /-?\d+(\.\d+)?/
%import common.WS
%ignore WS
"""

_PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


@dataclass(frozen=True)
class Value:
    """One right-hand-side operand: ``kind`` is ``string`` (``text`` without the quotes), ``number``
    (``text`` as written), ``param`` (``text`` = the name without ``$``) or ``current_item`` (``text`` =
    the field name after ``CurrentItem.``)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Condition:
    """``<dataset>.<field> <op> <values>``.

    ``dataset``: canonical dataset type (``ITEMS``, ``INTERACTIONS``, ...) or ``CURRENT_USER`` in an IF
    clause; ``field``: as written until :func:`~.check.check` resolves it to the schema's spelling;
    ``op``: ``IN``, ``NOT IN`` or one of ``= != < <= > >=``; ``values``: the operands.
    """

    dataset: str
    field: str
    op: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Expression:
    """One ``INCLUDE|EXCLUDE <target> WHERE ...`` part of a filter.

    ``action``: ``INCLUDE``/``EXCLUDE``; ``target``: ``ItemID``/``ActionID``/``UserID``;
    ``groups``: the WHERE conditions in disjunctive form — OR of groups, AND within a group;
    ``if_conditions``: the CurrentUser conditions of the IF clause (all must hold), may be empty.
    """

    action: str
    target: str
    groups: tuple[tuple[Condition, ...], ...]
    if_conditions: tuple[Condition, ...] = ()

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Every WHERE condition, in order."""
        return tuple(c for g in self.groups for c in g)

    @property
    def dataset(self) -> str:
        """The dataset of the first WHERE condition (every condition must use it, guide "AND/OR")."""
        return self.groups[0][0].dataset

    @property
    def parameters(self) -> set[str]:
        """Names (without ``$``) of the placeholders of this expression, IF clause included."""
        return {v.text for c in self.conditions + self.if_conditions for v in c.values if v.kind == "param"}


@dataclass(frozen=True)
class FilterExpression:
    """A whole ``filterExpression``: its ``|``-joined :class:`Expression` parts and the original text."""

    text: str
    expressions: tuple[Expression, ...]

    @property
    def target(self) -> str:
        """``ItemID``/``ActionID``/``UserID`` (every part must filter the same kind, see :mod:`.check`)."""
        return self.expressions[0].target

    @property
    def parameters(self) -> set[str]:
        return set().union(*(e.parameters for e in self.expressions))

    @property
    def uses_current_item(self) -> bool:
        """True when some condition compares with ``CurrentItem.<field>`` (related-items recipes only)."""
        return any(v.kind == "current_item" for e in self.expressions for c in e.conditions for v in c.values)


def _value(tok) -> Value:
    if isinstance(tok, Value):
        return tok
    if tok.type == "STRING":
        return Value("string", tok[1:-1])
    if tok.type == "NUMBER":
        return Value("number", str(tok))
    return Value("param", tok[1:])


class _Build(Transformer):
    def filter(self, parts):
        return tuple(parts)

    def expression(self, parts):
        action, target, *rest = parts
        if_conditions = ()
        if rest and isinstance(rest[-1], tuple) and rest[-1] and rest[-1][0] == "IF":
            if_conditions = rest.pop()[1]
        groups, current = [], [rest[0]]
        for connector, cond in zip(rest[1::2], rest[2::2]):
            if connector == "OR":
                groups.append(tuple(current))
                current = []
            current.append(cond)
        groups.append(tuple(current))
        return Expression(action.upper(), TARGETS[target.lower()], tuple(groups), if_conditions)

    def connector(self, parts):
        return parts[0].upper()

    def field_ref(self, parts):
        return DATASETS[parts[0].lower()], str(parts[1])

    def current_item_ref(self, parts):
        return Value("current_item", str(parts[1]))

    def current_user_ref(self, parts):
        return "CURRENT_USER", str(parts[1])

    def value_list(self, items):
        return tuple(_value(t) for t in items)

    def item_ref_rhs(self, parts):
        return (parts[0],)

    def membership(self, parts):
        (dataset, field), *rest = parts
        negated = len(rest) == 2
        return Condition(dataset, field, "NOT IN" if negated else "IN", rest[-1])

    def comparison(self, parts):
        (dataset, field), op, rhs = parts
        return Condition(dataset, field, str(op), (_value(rhs),))

    def user_comparison(self, parts):
        return self.comparison(parts)

    def user_membership(self, parts):
        (dataset, field), *rest = parts
        negated = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "NOT"
        values = tuple(_value(t) for t in (rest[1:] if negated else rest))
        return Condition(dataset, field, "NOT IN" if negated else "IN", values)

    def if_clause(self, parts):
        return ("IF", tuple(p for p in parts if isinstance(p, Condition)))


def parse(text: str) -> FilterExpression:
    """Parse a ``filterExpression``.

    Returns a :class:`FilterExpression` whose field names are still as written (see :func:`~.check.check`
    for the rules that need the dataset group's schemas).

    Raises:
        InvalidInputException: ``Cannot create filter. Invalid expression: <what and where>`` for text
            that is not in the language (the prefix of the guide's documented message, L19988).
    """
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        where = f"line {exc.line}, column {exc.column}" if getattr(exc, "line", -1) not in (-1, None) else ""
        token = getattr(exc, "token", None)
        found = f"unexpected {str(token)!r}" if token is not None and str(token) else "unexpected end of expression"
        if token is None and getattr(exc, "char", None):
            found = f"unexpected character {exc.char!r}"
        raise InvalidInputException(
            f"Cannot create filter. Invalid expression: {found} at {where or 'the end'}. Expected "
            "INCLUDE|EXCLUDE ItemID|ActionID|UserID WHERE <Dataset>.<FIELD> IN|NOT IN (<values>) ...") from None
    except LarkError as exc:  # pragma: no cover - any other parser failure is still bad input
        raise InvalidInputException(f"Cannot create filter. Invalid expression: {exc}") from None
    return FilterExpression(text, _Build().transform(tree))
