"""Input validation against the botocore input shape, as the service's front end does it.

botocore's own ``ParamValidator`` checks only required members, types and minimums, and it runs in the
client (where a user may turn it off); the service also enforces ``max``, ``pattern`` and ``enum``. All
violations are collected and reported in one ``ValidationException`` in AWS's wording::

    1 validation error detected: Value 'my group' at 'name' failed to satisfy constraint: Member must
    satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*
"""

from __future__ import annotations

from functools import lru_cache

import regex

from botocore.model import Shape

from ..errors import ValidationException


@lru_cache(maxsize=None)
def _regex(pattern: str):
    """The model's pattern compiled with the ``regex`` module, which understands the Java-style Unicode
    classes the models use (``\\p{L}``, ``\\p{ASCII}``) that Python's ``re`` does not."""
    return regex.compile(pattern)


def _show(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return str(value)
    return str(value)


def _check(shape: Shape, value, path: str, errors: list[str]) -> None:
    def fail(constraint: str):
        errors.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: {constraint}")

    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return fail("Member must be a structure")
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], _join(path, name), errors)
    elif t == "list":
        if not isinstance(value, list):
            return fail("Member must be a list")
        _length(len(value), meta, fail)
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}.{i + 1}.member" if path else str(i + 1), errors)
    elif t == "map":
        if not isinstance(value, dict):
            return fail("Member must be a map")
        _length(len(value), meta, fail)
        for k, v in value.items():
            _check(shape.key, k, f"{path}.{k}.key", errors)
            _check(shape.value, v, f"{path}.{k}.value", errors)
    elif t == "string":
        if not isinstance(value, str):
            return fail("Member must be a string")
        _length(len(value), meta, fail)
        if "pattern" in meta:
            rx = _regex(meta["pattern"])
            if not rx.fullmatch(value):
                fail(f"Member must satisfy regular expression pattern: {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            fail(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
    elif t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return fail("Member must be an integer")
        _range(value, meta, fail)
    elif t in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return fail("Member must be a number")
        _range(value, meta, fail)
    elif t == "boolean":
        if not isinstance(value, bool):
            return fail("Member must be a boolean")
    elif t == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return fail("Member must be a timestamp")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _length(n: int, meta: dict, fail) -> None:
    if "min" in meta and n < meta["min"]:
        fail(f"Member must have length greater than or equal to {meta['min']}")
    if "max" in meta and n > meta["max"]:
        fail(f"Member must have length less than or equal to {meta['max']}")


def _range(v, meta: dict, fail) -> None:
    if "min" in meta and v < meta["min"]:
        fail(f"Member must have value greater than or equal to {meta['min']}")
    if "max" in meta and v > meta["max"]:
        fail(f"Member must have value less than or equal to {meta['max']}")


def validate(shape: Shape | None, params: dict) -> None:
    """Check ``params`` (the decoded request body) against the operation's input ``shape``.

    Raises:
        ValidationException: listing every violated constraint (required, type, length, pattern, enum,
            range), in AWS's message format.
    """
    if shape is None:
        return
    errors: list[str] = []
    _check(shape, params, "", errors)
    if errors:
        n = len(errors)
        head = f"{n} validation error{'s' if n > 1 else ''} detected: "
        raise ValidationException(head + "; ".join(errors))
