"""JSON text from users, decoded in one place (:func:`loads`): request bodies (protocol/dispatch), schemas
(data/schemas), ``properties`` strings (data/records) and batch input lines (api/batch).

Besides text that is not JSON, three kinds of valid JSON cannot be kept: values nested deeper than
Python's recursion limit, integers longer than Python's int-to-text limit (4,300 digits), and strings
with an unpaired UTF-16 surrogate escape (``"\\ud800"``), which decode to text that cannot be encoded as
UTF-8, so it can never be stored, hashed or answered. All of them are :class:`NotJSONText`, which the
caller turns into its operation's error."""

from __future__ import annotations

import json
import re
import sys

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


class NotJSONText(ValueError):
    """Text :func:`loads` cannot decode into a document to keep; the message is a predicate to put after
    the text's name ("is not valid JSON (...)", "nests JSON values too deeply", ...)."""


def loads(text: str | bytes):
    """``json.loads(text)``; raises :class:`NotJSONText` for text that is not JSON (or not UTF-8), values
    nested too deeply, an integer of more digits than Python converts, or a string with an unpaired
    surrogate (:func:`lone_surrogate`)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotJSONText(f"is not valid JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise NotJSONText("nests JSON values too deeply") from None
    except UnicodeDecodeError:
        raise NotJSONText("is not valid JSON (not UTF-8 text)") from None
    except ValueError:  # int("1" * 4301): Python's limit on converting long digit strings (3.10.7+)
        limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
        raise NotJSONText(f"holds an integer of more than {limit} digits") from None
    if lone_surrogate(text, doc):
        raise NotJSONText("holds a string with an unpaired UTF-16 surrogate (such as \\ud800), which is not "
                          "Unicode text")
    return doc
