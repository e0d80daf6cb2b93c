"""Output serialization from the botocore output shape (JSON 1.1 and REST-JSON bodies are the same JSON).

Handlers return plain dicts that may hold more than the shape has (a full resource record serves as the
source of both its Describe output and its List summary): only the shape's members are written, so
every answer has exactly the members the model declares. Timestamps go out as epoch seconds.
"""

from __future__ import annotations

import datetime as _dt
import json

from botocore.model import Shape

from .models import PerShape


def _timestamp(value) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return float(value)


def to_wire(shape: Shape, value):
    """Project ``value`` onto ``shape``: known members only, ``None`` dropped, timestamps as epoch seconds."""
    convert = _converter(shape)
    return value if convert is None else convert(value)


def _converter(shape: Shape):
    """The converter of ``shape`` compiled once (None = the value goes out as it is: strings, blobs)."""
    return _CONVERTERS.get(shape)


def _compile(shape: Shape):
    t = shape.type_name
    if t == "structure":
        members = tuple((name, _converter(member)) for name, member in shape.members.items())

        def structure(value):
            out = {}
            get = value.get
            for name, convert in members:
                v = get(name)
                if v is not None:
                    out[name] = v if convert is None else convert(v)
            return out
        return structure
    if t == "list":
        item = _converter(shape.member)
        if item is None:
            return list
        return lambda value: [item(v) for v in value]
    if t == "map":
        item = _converter(shape.value)
        if item is None:
            return lambda value: {str(k): v for k, v in value.items()}
        return lambda value: {str(k): item(v) for k, v in value.items()}
    return {"timestamp": _timestamp, "integer": int, "long": int, "float": float, "double": float,
            "boolean": bool}.get(t)


#: Shape -> its converter: a closure per shape instead of walking the shape's members on every answer (a
#: 25-item GetRecommendations answer is ~80 nested values).
_CONVERTERS = PerShape(_compile, lambda shape: lambda value: to_wire(shape, value))


def body(shape: Shape | None, value: dict | None) -> bytes:
    """The JSON body of a successful answer (``{}`` for operations without an output shape)."""
    if shape is None or value is None:
        return b"{}"
    return json.dumps(to_wire(shape, value), separators=(",", ":")).encode()
