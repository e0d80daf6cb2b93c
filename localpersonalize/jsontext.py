"""JSON text that is not Unicode: an unpaired UTF-16 surrogate escape (``"\\ud800"``) is valid JSON, but the
string it decodes to cannot be encoded as UTF-8, so it can never be stored, hashed or answered. Request
bodies (protocol/dispatch), ``properties`` strings (data/records) and batch input lines (api/batch) are
checked with :func:`lone_surrogate` right after they are decoded."""

from __future__ import annotations

import json
import re

#: A JSON escape of a UTF-16 surrogate (``\\ud800``-``\\udfff``): a pair encodes one character, a lone one none;
#: as text and as bytes (a request body is searched without decoding it).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(_SURROGATE_ESCAPE.pattern.encode())


def lone_surrogate(text: str | bytes, doc) -> bool:
    """True when ``doc``, the JSON document decoded from ``text``, holds a string with an unpaired UTF-16
    surrogate. ``text`` is looked at first: without a surrogate escape in it (one search) nothing is
    decoded to check."""
    pattern = _SURROGATE_ESCAPE_BYTES if isinstance(text, bytes) else _SURROGATE_ESCAPE
    if not text or not pattern.search(text):
        return False
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
