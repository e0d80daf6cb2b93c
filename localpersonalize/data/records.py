"""Streamed records (personalize-events) → rows of a dataset's schema.

Spec: ``shared/spec/40-events-and-data-management.md`` §3-§5 (PutEvents, ``properties``,
impressions, PutActionInteractions, anonymous sessions) and §7.1 (PutItems / PutUsers / PutActions);
limits from ``60-quotas-errors-security.md`` §1.6. Pure: the API layer finds the tracker or dataset and
hands over the validated request members; these functions build the mappings of schema field → value
that :meth:`~localpersonalize.data.datasets.Dataset.put_records` stores (where the type, length and
null rules of bulk imports apply). Every error is an :class:`~.csv_import.ImportFailure` whose reason
names the record, the key and the rule.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Mapping

from .csv_import import ImportFailure, strip_blanks
from .. import jsontext
from .schemas import Schema

__all__ = [
    "MAX_EVENT_BYTES",
    "FORBIDDEN_PROPERTY_KEYS",
    "ACTION_EVENT_TYPES",
    "camel_case",
    "epoch_seconds",
    "parse_properties",
    "event_record",
    "action_interaction_record",
    "entity_record",
]

#: One event or action interaction: at most 10 KB (spec 60 §1.6).
MAX_EVENT_BYTES = 10 * 1024
#: Keys that may not appear in an event's ``properties``, compared case-insensitively (model docs of
#: ``Event.properties`` and ``ActionInteraction.properties``).
FORBIDDEN_PROPERTY_KEYS = frozenset({"userid", "sessionid", "eventtype", "timestamp", "recommendationid",
                                     "impression"})
#: Action interaction event types (guide L15433, L4927), normalised: lower case, ``_`` as a space.
ACTION_EVENT_TYPES = frozenset({"taken", "not taken", "viewed"})


def camel_case(field_name: str) -> str:
    """The ``properties`` key of a schema field: ``NUM_RATINGS`` → ``numRatings``, ``ITEM_ID`` →
    ``itemId`` (guide L15218: first word lower case, following words capitalised, no underscores)."""
    words = [w for w in field_name.split("_") if w]
    if not words:
        return field_name
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def epoch_seconds(value, where: str) -> int:
    """A ``sentAt`` / ``timestamp`` member as whole Unix epoch seconds.

    Accepts a number (what botocore sends), a numeric string (the guide's ``'1667260945'``) or an ISO
    8601 string. Raises :class:`ImportFailure` otherwise.
    """
    if isinstance(value, _dt.datetime):
        return int(value.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return int(math.floor(value))
    if isinstance(value, str):
        try:
            return int(math.floor(float(value)))
        except ValueError:
            pass
        try:
            parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_dt.timezone.utc)
            return int(parsed.timestamp())
    raise ImportFailure(f"{where}: {value!r} is not a timestamp (Unix epoch seconds)")


def parse_properties(text: str | None, schema: Schema, where: str, forbidden: frozenset = frozenset(),
                     exclude: tuple[str, ...] = ()) -> dict:
    """Decode a ``properties`` JSON string into ``{schema field: value}``.

    The string must hold a JSON object (not a JSON-encoded string: a double-encoded ``properties`` is
    refused); each key is the camelCase form of a schema field (``numRatings`` → ``NUM_RATINGS``,
    spec 40 §3.2) and each value a string, number, boolean or null (several categorical values go in
    one ``"a|b"`` string). ``forbidden``: keys refused case-insensitively; ``exclude``: fields that may
    not come from properties (the record's own ID field). Raises :class:`ImportFailure` naming the key.
    """
    if text is None:
        return {}
    try:
        doc = jsontext.loads(text)
    except jsontext.NotJSONText as exc:
        raise ImportFailure(f"{where}: properties {exc}") from None
    if isinstance(doc, str):
        raise ImportFailure(f"{where}: properties must be a JSON object string such as "
                            f'\'{{"numRatings": "12"}}\', not a JSON-encoded string (was it encoded twice?)')
    if not isinstance(doc, dict):
        raise ImportFailure(f"{where}: properties must be a JSON object, not {type(doc).__name__}")
    by_key = {camel_case(f.name): f.name for f in schema.fields}
    out = {}
    for key, value in doc.items():
        if key.lower() in forbidden:
            raise ImportFailure(f"{where}: {key!r} cannot be a key of properties "
                                f"(reserved: userId, sessionId, eventType, timestamp, recommendationId, impression)")
        field = by_key.get(key)
        if field is None or field in exclude:
            allowed = [camel_case(n) for n in schema.field_names
                       if n not in exclude and camel_case(n).lower() not in forbidden]
            hint = ""
            for name in allowed:
                if name.lower() == key.replace("_", "").lower():
                    hint = f" (did you mean {name!r}?)"
            if field in exclude:
                raise ImportFailure(f"{where}: {key!r} cannot be a key of properties; it is a member of the record")
            raise ImportFailure(f"{where}: properties key {key!r} matches no field of the dataset's schema{hint}; "
                                f"keys are the camelCase names of the fields ({', '.join(allowed)})")
        if isinstance(value, (dict, list)):
            raise ImportFailure(f"{where}: properties value of {key!r} must be a string, number or boolean "
                                f"(separate several categorical values with '|')")
        out[field] = value
    return out


def _merge(record: dict, props: dict, where: str) -> dict:
    """Add ``props`` to ``record``; a field given both ways must have the same value."""
    for field, value in props.items():
        if field in record and record[field] is not None and str(record[field]) != str(value):
            raise ImportFailure(f"{where}: {camel_case(field)} is given both as a member ({record[field]!r}) "
                                f"and in properties ({value!r}) with different values")
        if record.get(field) is None:
            record[field] = value
    return record


def _check_size(member: Mapping, where: str) -> None:
    """The 10 KB limit of one event (spec 60 §1.6), on the member's compact JSON in UTF-8: a character
    counts its UTF-8 bytes (1-4), not the 6 of a ``\\uXXXX`` escape."""
    text = json.dumps(member, default=str, separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EVENT_BYTES:
        raise ImportFailure(f"{where}: the record is {size} bytes; at most {MAX_EVENT_BYTES} (10 KB) are allowed")


def _only_schema_fields(record: dict, schema: Schema) -> dict:
    """Drop members the schema has no column for (e.g. ``eventType`` without EVENT_TYPE: the guide says
    it is then just not used)."""
    return {k: v for k, v in record.items() if schema.field(k) is not None}


def event_record(event: Mapping, user_id: str | None, schema: Schema, number: int) -> dict:
    """One ``PutEvents`` event → a row of the Interactions schema (spec 40 §3.3).

    ``event``: the validated ``Event`` member; ``user_id``: the request's ``userId`` (``None`` for an
    anonymous visitor); ``number``: 1-based position in ``eventList`` (for messages). Members map to
    ``USER_ID``, ``ITEM_ID``, ``TIMESTAMP`` (``sentAt``, epoch seconds), ``EVENT_TYPE``,
    ``EVENT_VALUE``, ``IMPRESSION`` (the list joined with ``|``), ``RECOMMENDATION_ID`` and
    ``EVENT_ATTRIBUTION_SOURCE``; ``properties`` fills the other columns (``itemId`` and ``eventValue``
    may be given there too). Raises :class:`ImportFailure`: an event over 10 KB, bad properties, no
    itemId.
    """
    where = f"Event {number}"
    _check_size(event, where)
    if user_id is not None and not strip_blanks(user_id):  # would be read as no userId: an anonymous event
        raise ImportFailure(f"userId {user_id!r} is blank: give the user's ID, or leave userId out for an "
                            f"anonymous visitor (the sessionId)")
    record = {
        "USER_ID": user_id,
        "ITEM_ID": event.get("itemId"),
        "TIMESTAMP": epoch_seconds(event.get("sentAt"), f"{where}: sentAt"),
        "EVENT_TYPE": event.get("eventType"),
        "EVENT_VALUE": event.get("eventValue"),
        "IMPRESSION": "|".join(event["impression"]) if event.get("impression") else None,
        "RECOMMENDATION_ID": event.get("recommendationId"),
        "EVENT_ATTRIBUTION_SOURCE": (event.get("metricAttribution") or {}).get("eventAttributionSource"),
    }
    _merge(record, parse_properties(event.get("properties"), schema, where, FORBIDDEN_PROPERTY_KEYS,
                                    exclude=("USER_ID", "TIMESTAMP", "EVENT_TYPE")), where)
    if record["ITEM_ID"] is None:
        raise ImportFailure(f"{where}: itemId is required (the Interactions schema's ITEM_ID field); give it "
                            f"as the itemId member or in properties")
    return _only_schema_fields(record, schema)


def action_interaction_record(interaction: Mapping, schema: Schema, number: int) -> dict:
    """One ``PutActionInteractions`` record → a row of the Action interactions schema (spec 40 §4).

    ``eventType`` must be ``Taken``, ``Not Taken`` or ``Viewed`` (case-insensitive, ``_`` as a space;
    stored as sent); ``impression`` is accepted and not stored (the model documentation: it is not used).
    Raises :class:`ImportFailure`.
    """
    where = f"Action interaction {number}"
    _check_size(interaction, where)
    event_type = interaction.get("eventType") or ""
    if event_type.replace("_", " ").strip().lower() not in ACTION_EVENT_TYPES:
        raise ImportFailure(f"{where}: eventType {event_type!r} is not valid; use Taken, Not Taken or Viewed")
    record = {
        "USER_ID": interaction.get("userId"),
        "ACTION_ID": interaction.get("actionId"),
        "TIMESTAMP": epoch_seconds(interaction.get("timestamp"), f"{where}: timestamp"),
        "EVENT_TYPE": event_type,
        "RECOMMENDATION_ID": interaction.get("recommendationId"),
    }
    _merge(record, parse_properties(interaction.get("properties"), schema, where, FORBIDDEN_PROPERTY_KEYS,
                                    exclude=("USER_ID", "ACTION_ID", "TIMESTAMP", "EVENT_TYPE")), where)
    return _only_schema_fields(record, schema)


def entity_record(id_field: str, id_value: str, properties: str | None, schema: Schema, number: int,
                  kind: str) -> dict:
    """One ``PutItems`` / ``PutUsers`` / ``PutActions`` record → a row of the dataset's schema.

    ``id_field``: ``ITEM_ID``, ``USER_ID`` or ``ACTION_ID``; ``properties``: the JSON string of the other
    fields (camelCase keys, spec 40 §7.1); ``kind``: ``Item``/``User``/``Action`` for messages. Fields
    absent from properties are null (refused later if the schema field is not nullable). Raises
    :class:`ImportFailure`.
    """
    where = f"{kind} {number}"
    record = {id_field: id_value}
    record.update(parse_properties(properties, schema, where, exclude=(id_field,)))
    return record
