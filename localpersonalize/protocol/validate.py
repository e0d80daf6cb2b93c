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
from .models import PerShape


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
    """Append to ``errors`` every constraint of ``shape`` that ``value`` (at ``path``) violates."""
    _validator(shape)(value, path, errors)


def _validator(shape: Shape):
    """The check of ``shape``, compiled once into closures (members, constraints and the compiled pattern
    looked up when the shape is first used, not on every request)."""
    return _VALIDATORS.get(shape)


def _failer(value, path: str, errors: list[str]):
    def fail(constraint: str):
        errors.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: {constraint}")
    return fail


def _compile(shape: Shape):
    t = shape.type_name
    meta = shape.metadata
    has_length = "min" in meta or "max" in meta
    if t == "structure":
        required = tuple(shape.required_members)
        members = tuple((name, _validator(member)) for name, member in shape.members.items())

        def structure(value, path, errors):
            if not isinstance(value, dict):
                return _failer(value, path, errors)("Member must be a structure")
            for name in required:
                if value.get(name) is None:
                    errors.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                                  "Member must not be null")
            for name, check in members:
                v = value.get(name)
                if v is not None:
                    check(v, _join(path, name), errors)
        return structure
    if t == "list":
        item = _validator(shape.member)

        def list_(value, path, errors):
            if not isinstance(value, list):
                return _failer(value, path, errors)("Member must be a list")
            if has_length:
                _length(len(value), meta, _failer(value, path, errors))
            for i, v in enumerate(value):
                item(v, f"{path}.{i + 1}.member" if path else str(i + 1), errors)
        return list_
    if t == "map":
        key, val = _validator(shape.key), _validator(shape.value)

        def map_(value, path, errors):
            if not isinstance(value, dict):
                return _failer(value, path, errors)("Member must be a map")
            if has_length:
                _length(len(value), meta, _failer(value, path, errors))
            for k, v in value.items():
                key(k, f"{path}.{k}.key", errors)
                val(v, f"{path}.{k}.value", errors)
        return map_
    if t == "string":
        rx = _regex(meta["pattern"]) if "pattern" in meta else None
        enum = frozenset(shape.enum) if shape.enum else None

        def string(value, path, errors):
            if not isinstance(value, str):
                return _failer(value, path, errors)("Member must be a string")
            if has_length:
                _length(len(value), meta, _failer(value, path, errors))
            if rx is not None and not rx.fullmatch(value):
                _failer(value, path, errors)(f"Member must satisfy regular expression pattern: {meta['pattern']}")
            if enum is not None and value not in enum:
                _failer(value, path, errors)(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        return string
    if t in ("integer", "long", "float", "double"):
        kinds, what = ((int,), "an integer") if t in ("integer", "long") else ((int, float), "a number")

        def number(value, path, errors):
            if isinstance(value, bool) or not isinstance(value, kinds):
                return _failer(value, path, errors)(f"Member must be {what}")
            if has_length:
                _range(value, meta, _failer(value, path, errors))
        return number
    if t == "boolean":
        def boolean(value, path, errors):
            if not isinstance(value, bool):
                _failer(value, path, errors)("Member must be a boolean")
        return boolean
    if t == "timestamp":
        def timestamp(value, path, errors):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                _failer(value, path, errors)("Member must be a timestamp")
        return timestamp
    return lambda value, path, errors: None


#: Shape -> its compiled check ``(value, path, errors) -> None``.
_VALIDATORS = PerShape(_compile, lambda shape: lambda value, path, errors: _check(shape, value, path, errors))


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
