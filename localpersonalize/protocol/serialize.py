"""Output serialization from the botocore output shape (JSON 1.1 and REST-JSON bodies are the same JSON).

Handlers return plain dicts that may hold more than the shape has (a full resource record serves as the
source of both its Describe output and its List summary): only the shape's members are written, so
every answer has exactly the members the model declares. Timestamps go out as epoch seconds.
"""

from __future__ import annotations

import datetime as _dt
import json

from botocore.model import Shape


def _timestamp(value) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return float(value)


def to_wire(shape: Shape, value):
    """Project ``value`` onto ``shape``: known members only, ``None`` dropped, timestamps as epoch seconds."""
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            v = value.get(name)
            if v is not None:
                out[name] = to_wire(member, v)
        return out
    if t == "list":
        return [to_wire(shape.member, v) for v in value]
    if t == "map":
        return {str(k): to_wire(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return _timestamp(value)
    if t in ("integer", "long"):
        return int(value)
    if t in ("float", "double"):
        return float(value)
    if t == "boolean":
        return bool(value)
    return value


def body(shape: Shape | None, value: dict | None) -> bytes:
    """The JSON body of a successful answer (``{}`` for operations without an output shape)."""
    if shape is None or value is None:
        return b"{}"
    return json.dumps(to_wire(shape, value), separators=(",", ":")).encode()
