"""Avro schemas of Personalize datasets: parsing and the Personalize rules.

Pure functions: a JSON string in, a :class:`Schema` out, :class:`SchemaError`
on any rule violation (the API layer maps it to ``InvalidInputException``).
Spec: ``shared/spec/10-data-and-schemas.md`` §3-§4; guide lines L4955-L5857.

All per-dataset-type / per-domain rules live in one table, :data:`FIELD_RULES`;
the checking code is generic over it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field as dc_field
from typing import Iterable

import fastavro

from .. import jsontext

__all__ = [
    "SchemaError",
    "Field",
    "Schema",
    "FieldRule",
    "DatasetRules",
    "FIELD_RULES",
    "DATASET_TYPES",
    "DOMAINS",
    "ID_FIELDS",
    "TIMESTAMP_FIELDS",
    "parse_schema",
    "check_schema_for_dataset",
    "canonical_dataset_type",
    "canonical_domain",
    "check_schema_replacement",
]

#: Canonical dataset types (spec §1).
DATASET_TYPES = ("INTERACTIONS", "USERS", "ITEMS", "ACTIONS", "ACTION_INTERACTIONS")
#: Domains of a domain dataset group (spec §3, ``CreateSchema.domain``).
DOMAINS = ("VIDEO_ON_DEMAND", "ECOMMERCE")
#: Avro primitive types Personalize accepts (spec §3, L4955-L5030).
ALLOWED_TYPES = frozenset({"float", "double", "int", "long", "string", "boolean", "null"})
NUMERIC_TYPES = frozenset({"float", "double", "int", "long"})
#: ID fields: strings of at most 256 characters (L5570, L5628, L5715).
ID_FIELDS = frozenset({"USER_ID", "ITEM_ID", "ACTION_ID"})
#: Fields holding Unix epoch seconds (spec §6 rule 5, L5997).
TIMESTAMP_FIELDS = frozenset(
    {"TIMESTAMP", "CREATION_TIMESTAMP", "EXPIRATION_TIMESTAMP", "ACTION_EXPIRATION_TIMESTAMP"}
)


class SchemaError(ValueError):
    """A schema breaks an Avro or Personalize rule; ``str(err)`` names the field and the rule."""


@dataclass(frozen=True)
class Field:
    """One field of a Personalize schema.

    Attributes: ``name``; ``type`` — the non-null Avro primitive
    (``float|double|int|long|string|boolean``); ``nullable`` — declared as a
    union with ``null``; ``categorical`` / ``textual`` — the Personalize-only
    flags (strings only, spec §3).
    """

    name: str
    type: str
    nullable: bool = False
    categorical: bool = False
    textual: bool = False


@dataclass(frozen=True)
class Schema:
    """A parsed, generically valid Personalize schema.

    Attributes: ``name`` — the Avro record name without namespace (e.g.
    ``Interactions``); ``fields`` — :class:`Field` list in declaration order;
    ``json`` — the original JSON string (schemas are immutable, spec §1);
    ``dataset_type`` — canonical dataset type the record name designates, or
    ``None`` when the name is not a dataset type.
    """

    name: str
    fields: tuple[Field, ...]
    json: str
    dataset_type: str | None = None
    _by_name: dict = dc_field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self._by_name.update({f.name: f for f in self.fields})

    def field(self, name: str) -> Field | None:
        """Return the field called ``name`` (exact match) or ``None``."""
        return self._by_name.get(name)

    @property
    def field_names(self) -> list[str]:
        """Field names in declaration order."""
        return [f.name for f in self.fields]


# --------------------------------------------------------------------------
# The rule table (spec §4.1-§4.3)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """Rule for one required or reserved field.

    ``types``: allowed Avro primitive(s); ``nullable``: whether a union with
    null is allowed; ``categorical`` / ``textual``: the flag the field must
    carry (True: must be set, False: must not be set).
    """

    types: frozenset
    nullable: bool = False
    categorical: bool = False
    textual: bool = False


def _r(types: str, nullable: bool = False, categorical: bool = False, textual: bool = False) -> FieldRule:
    return FieldRule(frozenset(types.split("|")), nullable, categorical, textual)


@dataclass(frozen=True)
class DatasetRules:
    """Rules of one (dataset type, domain): required/reserved fields and limits.

    ``metadata_min``: minimum number of metadata fields (Users/Items/Actions
    need one, spec §4.1); ``metadata_max``: maximum number of non-required
    columns (Users 25, Items 100, Actions 10, L4747/L4775/L4864);
    ``custom_max``: maximum number of fields that are neither required nor
    reserved (item interactions: 5, L5512).
    """

    required: dict
    reserved: dict
    metadata_min: int = 0
    metadata_max: int | None = None
    custom_max: int | None = None


STRING = _r("string")
LONG = _r("long")
FLOAT_NULL = _r("float|double", nullable=True)
STRING_NULL = _r("string", nullable=True)
CAT_NULL = _r("string", nullable=True, categorical=True)
CAT = _r("string", categorical=True)
LONG_NULL = _r("long", nullable=True)
TEXT_NULL = _r("string", nullable=True, textual=True)

_INTERACTION_RESERVED = {
    "EVENT_VALUE": FLOAT_NULL,
    "IMPRESSION": STRING_NULL,
    "RECOMMENDATION_ID": STRING_NULL,
    "EVENT_ATTRIBUTION_SOURCE": STRING_NULL,
}
_DOMAIN_INTERACTIONS = DatasetRules(
    required={"USER_ID": STRING, "ITEM_ID": STRING, "TIMESTAMP": LONG, "EVENT_TYPE": STRING},
    reserved=dict(_INTERACTION_RESERVED),
    custom_max=5,
)

#: (canonical dataset type, domain or None) -> rules.  Spec §4.1-§4.3.
FIELD_RULES: dict[tuple[str, str | None], DatasetRules] = {
    # ---- custom dataset groups, spec §4.1 [L5459-L5498]
    ("INTERACTIONS", None): DatasetRules(
        required={"USER_ID": STRING, "ITEM_ID": STRING, "TIMESTAMP": LONG},
        reserved={"EVENT_TYPE": STRING, **_INTERACTION_RESERVED},
        custom_max=5,
    ),
    ("USERS", None): DatasetRules(
        required={"USER_ID": STRING}, reserved={}, metadata_min=1, metadata_max=25
    ),
    ("ITEMS", None): DatasetRules(
        required={"ITEM_ID": STRING},
        reserved={"CREATION_TIMESTAMP": LONG},
        metadata_min=1,
        metadata_max=100,
    ),
    ("ACTIONS", None): DatasetRules(
        required={"ACTION_ID": STRING},
        reserved={
            "CREATION_TIMESTAMP": LONG,
            "VALUE": LONG_NULL,
            "TYPE": STRING_NULL,
            # the guide spells the expiry field both ways (spec §4.1): accept both
            "EXPIRATION_TIMESTAMP": LONG_NULL,
            "ACTION_EXPIRATION_TIMESTAMP": LONG_NULL,
            "REPEAT_FREQUENCY": LONG_NULL,
        },
        metadata_min=1,
        metadata_max=10,
    ),
    ("ACTION_INTERACTIONS", None): DatasetRules(
        required={"USER_ID": STRING, "ACTION_ID": STRING, "EVENT_TYPE": STRING, "TIMESTAMP": LONG},
        reserved={"IMPRESSION": STRING_NULL, "RECOMMENDATION_ID": STRING_NULL},
    ),
    # ---- VIDEO_ON_DEMAND, spec §4.2 [L5035-L5240]
    ("INTERACTIONS", "VIDEO_ON_DEMAND"): _DOMAIN_INTERACTIONS,
    ("USERS", "VIDEO_ON_DEMAND"): DatasetRules(
        required={"USER_ID": STRING},
        reserved={"SUBSCRIPTION_MODEL": CAT_NULL},
        metadata_min=1,
        metadata_max=25,
    ),
    ("ITEMS", "VIDEO_ON_DEMAND"): DatasetRules(
        required={"ITEM_ID": STRING, "CREATION_TIMESTAMP": LONG, "GENRES": CAT},
        reserved={
            "PRICE": FLOAT_NULL,
            "DURATION": FLOAT_NULL,
            "GENRE_L2": CAT_NULL,
            "GENRE_L3": CAT_NULL,
            "AVERAGE_RATING": FLOAT_NULL,
            "PRODUCT_DESCRIPTION": TEXT_NULL,
            "CONTENT_OWNER": CAT_NULL,
            "CONTENT_CLASSIFICATION": CAT_NULL,
        },
        metadata_max=100,
    ),
    # ---- ECOMMERCE, spec §4.3 [L5243-L5450]
    ("INTERACTIONS", "ECOMMERCE"): _DOMAIN_INTERACTIONS,
    ("USERS", "ECOMMERCE"): DatasetRules(
        required={"USER_ID": STRING}, reserved={}, metadata_min=1, metadata_max=25
    ),
    ("ITEMS", "ECOMMERCE"): DatasetRules(
        required={"ITEM_ID": STRING, "PRICE": _r("float|double"), "CATEGORY_L1": CAT},
        reserved={
            "CATEGORY_L2": CAT_NULL,
            "CATEGORY_L3": CAT_NULL,
            "PRODUCT_DESCRIPTION": TEXT_NULL,
            # the prose list says float (L5387), the table long: accept both (spec §9)
            "CREATION_TIMESTAMP": _r("long|float|double"),
            "AGE_GROUP": CAT_NULL,
            "ADULT": CAT_NULL,
            "GENDER": CAT_NULL,
        },
        metadata_max=100,
    ),
}

#: Fields that never count as "metadata" for the ≥1 metadata-field rule.
_NOT_METADATA = ID_FIELDS | TIMESTAMP_FIELDS

_DATASET_TYPE_ALIASES = {
    "INTERACTIONS": "INTERACTIONS",
    "ITEMINTERACTIONS": "INTERACTIONS",
    "USERS": "USERS",
    "ITEMS": "ITEMS",
    "ACTIONS": "ACTIONS",
    "ACTIONINTERACTIONS": "ACTION_INTERACTIONS",
}


def canonical_dataset_type(s: str | None) -> str | None:
    """Map a dataset type or schema record name to its canonical form.

    Case-insensitive, ignores ``_``/``-``/spaces: ``Interactions`` ->
    ``INTERACTIONS``; ``Action_Interactions`` / ``ActionInteractions`` ->
    ``ACTION_INTERACTIONS`` (spec §1). Returns ``None`` for anything else.
    """
    if not isinstance(s, str):
        return None
    return _DATASET_TYPE_ALIASES.get(re.sub(r"[\s_\-]", "", s).upper())


def canonical_domain(domain: str | None) -> str | None:
    """Return ``None`` (custom) or the domain upper-cased.

    Raises :class:`SchemaError` for a domain other than VIDEO_ON_DEMAND or
    ECOMMERCE (``CreateSchema.domain``, spec §3).
    """
    if domain is None or domain == "":
        return None
    d = domain.upper()
    if d not in DOMAINS:
        raise SchemaError(f"Unknown domain {domain!r}: must be one of {', '.join(DOMAINS)}")
    return d


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def _field_type(name: str, t) -> tuple[str, bool]:
    """Return (non-null primitive, nullable) of an Avro field type, or raise."""

    def short(m):  # {"type": "long"} is the long form of a primitive, alone or in a union
        if isinstance(m, dict) and set(m) <= {"type", "logicalType"} and isinstance(m.get("type"), str):
            return m["type"]
        return m

    t = short(t)
    if isinstance(t, str):
        members = [t]
    elif isinstance(t, list):
        members = [short(m) for m in t]
    else:
        raise SchemaError(
            f"Field {name}: type {json.dumps(t)} is not allowed; the schema must be flat "
            f"(no nested records, arrays, maps or enums). Allowed types: "
            f"{', '.join(sorted(ALLOWED_TYPES))} and unions with null"
        )
    for m in members:
        if not isinstance(m, str) or m not in ALLOWED_TYPES:
            raise SchemaError(
                f"Field {name}: type {json.dumps(m)} is not allowed. Allowed types: "
                f"{', '.join(sorted(ALLOWED_TYPES))} and unions with null"
            )
    non_null = [m for m in members if m != "null"]
    if len(non_null) != 1 or len(members) != len(set(members)):
        raise SchemaError(
            f"Field {name}: union {json.dumps(t)} is not allowed; a union may only combine "
            f"one type with null"
        )
    return non_null[0], "null" in members


def parse_schema(schema_json: str, domain: str | None = None) -> Schema:
    """Parse and check an Avro schema JSON string (``CreateSchema``).

    Generic rules (spec §3, L4955-L5030): valid JSON and Avro (checked with
    ``fastavro.parse_schema``; it accepts the extra ``categorical`` /
    ``textual`` keys); a flat ``record``; field types from
    ``float|double|int|long|string|boolean|null`` or a union of one of them
    with ``null``; ``categorical`` / ``textual`` only on string fields, not
    both on one field, ``textual`` only in an Items schema and at most once;
    field names unique after removing non-alphanumerics and upper-casing
    (``GENRES_FIELD_1`` vs ``GENRESFIELD1``).

    Dataset rules: when the record name designates a dataset type
    (:func:`canonical_dataset_type`), :func:`check_schema_for_dataset` is
    applied with ``domain``. With a domain, the record name must designate a
    dataset type that the domain supports. A custom schema with another
    record name is accepted here and refused at ``CreateDataset``.

    Raises :class:`SchemaError` naming the field and the rule.
    """
    if not isinstance(schema_json, str):
        raise SchemaError("Schema must be a JSON string")
    try:
        doc = jsontext.loads(schema_json)
    except jsontext.NotJSONText as exc:
        raise SchemaError(f"Schema {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "record":
        raise SchemaError('Schema must be an Avro record: {"type": "record", "name": ..., "fields": [...]}')
    rec_name = doc.get("name")
    if not isinstance(rec_name, str) or not rec_name:
        raise SchemaError("Schema record must have a name (the dataset type, e.g. Interactions)")
    raw_fields = doc.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise SchemaError("Schema record must have a non-empty fields list")

    fields: list[Field] = []
    seen: dict[str, str] = {}
    n_textual = 0
    for i, f in enumerate(raw_fields):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise SchemaError(f"Field #{i + 1}: each field must be an object with a string name")
        name = f["name"]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SchemaError(f"Field {name!r}: not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)")
        if "type" not in f:
            raise SchemaError(f"Field {name}: missing type")
        typ, nullable = _field_type(name, f["type"])
        categorical = f.get("categorical", False)
        textual = f.get("textual", False)
        for flag, val in (("categorical", categorical), ("textual", textual)):
            if not isinstance(val, bool):
                raise SchemaError(f"Field {name}: {flag} must be true or false")
            if val and typ != "string":
                raise SchemaError(f"Field {name}: {flag} is only allowed on string fields, not {typ}")
        if categorical and textual:
            raise SchemaError(f"Field {name}: a field cannot be both categorical and textual")
        n_textual += textual
        key = re.sub(r"[^A-Za-z0-9]", "", name).upper()
        if key in seen:
            raise SchemaError(
                f"Field {name}: field names must be unique alphanumerically; "
                f"{name} collides with {seen[key]}"
            )
        seen[key] = name
        fields.append(Field(name, typ, nullable, categorical, textual))

    try:
        fastavro.parse_schema(doc)
    except Exception as e:  # fastavro raises several exception types
        raise SchemaError(f"Schema is not valid Avro: {e}") from None

    dataset_type = canonical_dataset_type(rec_name.rsplit(".", 1)[-1])
    if n_textual and dataset_type != "ITEMS":
        tf = next(f.name for f in fields if f.textual)
        raise SchemaError(f"Field {tf}: textual fields are only allowed in an Items schema")
    if n_textual > 1:
        tf = [f.name for f in fields if f.textual]
        raise SchemaError(f"Field {tf[1]}: at most one textual field is allowed (found {', '.join(tf)})")

    schema = Schema(rec_name.rsplit(".", 1)[-1], tuple(fields), schema_json, dataset_type)
    dom = canonical_domain(domain)
    if dataset_type is not None:
        check_schema_for_dataset(schema, dataset_type, dom)
    elif dom is not None:
        raise SchemaError(
            f"Schema record name {rec_name!r} is not a dataset type of domain {dom} "
            f"(Interactions, Users or Items)"
        )
    return schema


def _is_metadata(f: Field) -> bool:
    """A field that satisfies the '≥1 metadata field' rule (categorical/textual string or numeric)."""
    if f.name in _NOT_METADATA:
        return False
    return f.type in NUMERIC_TYPES or (f.type == "string" and (f.categorical or f.textual))


def _check_rule(f: Field, rule: FieldRule, kind: str, where: str) -> None:
    tnames = " or ".join(sorted(rule.types))
    if f.type not in rule.types:
        raise SchemaError(f"Field {f.name}: {kind} field of {where} must have type {tnames}, not {f.type}")
    if f.nullable and not rule.nullable:
        raise SchemaError(f"Field {f.name}: {kind} field of {where} cannot be nullable (no union with null)")
    if f.categorical != rule.categorical:
        must = "must set" if rule.categorical else "must not set"
        raise SchemaError(f'Field {f.name}: {kind} field of {where} {must} "categorical": true')
    if f.textual != rule.textual:
        must = "must set" if rule.textual else "must not set"
        raise SchemaError(f'Field {f.name}: {kind} field of {where} {must} "textual": true')


def check_schema_for_dataset(schema: Schema, dataset_type: str, domain: str | None) -> None:
    """Check ``schema`` against one dataset type (``CreateDataset``) and domain.

    ``dataset_type``: any spelling accepted by :func:`canonical_dataset_type`;
    ``domain``: ``None`` (custom), ``VIDEO_ON_DEMAND`` or ``ECOMMERCE``.
    Checks (spec §1, §4; L4578-L4587, L5035-L5498): the record name matches the
    dataset type; a domain supports the type (no Actions / Action interactions
    in a domain); required fields are present; required and reserved fields
    have their type, nullability and categorical/textual flags; at least one
    metadata field (Users/Items/Actions); column limits (Users 25, Items 100,
    Actions 10; item interactions ≤5 custom fields).

    Raises :class:`SchemaError` naming the field and the rule.
    """
    dtype = canonical_dataset_type(dataset_type)
    if dtype is None:
        raise SchemaError(f"Unknown dataset type {dataset_type!r}: must be one of {', '.join(DATASET_TYPES)}")
    dom = canonical_domain(domain)
    if canonical_dataset_type(schema.name) != dtype:
        raise SchemaError(f"Schema record name {schema.name!r} does not match dataset type {dtype}")
    rules = FIELD_RULES.get((dtype, dom))
    if rules is None:
        raise SchemaError(f"Dataset type {dtype} is not supported in a {dom} domain dataset group")
    where = f"{dtype}" + (f" ({dom})" if dom else "")

    for name, rule in rules.required.items():
        f = schema.field(name)
        if f is None:
            raise SchemaError(f"Field {name}: required field of {where} is missing")
        _check_rule(f, rule, "required", where)
    for name, rule in rules.reserved.items():
        f = schema.field(name)
        if f is not None:
            _check_rule(f, rule, "reserved", where)

    others = [f for f in schema.fields if f.name not in rules.required]
    custom = [f for f in others if f.name not in rules.reserved]
    # Reserved names of other dataset types/domains are free names here, but an
    # ID field name used outside its dataset type is ambiguous: refuse it.
    for f in custom:
        if f.name in ID_FIELDS:
            raise SchemaError(f"Field {f.name}: reserved ID name cannot be used as a metadata field of {where}")
    if rules.metadata_min and sum(_is_metadata(f) for f in others) < rules.metadata_min:
        raise SchemaError(
            f"Schema of {where} needs at least {rules.metadata_min} metadata field "
            f"(a categorical{' or textual' if dtype == 'ITEMS' else ''} string or a numeric field) "
            f"besides {', '.join(rules.required)}"
        )
    if rules.metadata_max is not None and len(others) > rules.metadata_max:
        raise SchemaError(
            f"Field {others[rules.metadata_max].name}: {where} allows at most "
            f"{rules.metadata_max} metadata fields (found {len(others)})"
        )
    if rules.custom_max is not None and len(custom) > rules.custom_max:
        raise SchemaError(
            f"Field {custom[rules.custom_max].name}: {where} allows at most {rules.custom_max} "
            f"metadata fields besides the reserved ones (found {len(custom)})"
        )


def metadata_fields(schema: Schema, dataset_type: str, domain: str | None = None) -> Iterable[Field]:
    """Fields of ``schema`` that are neither required nor reserved for the type/domain."""
    rules = FIELD_RULES[(canonical_dataset_type(dataset_type), canonical_domain(domain))]
    return [f for f in schema.fields if f.name not in rules.required and f.name not in rules.reserved]


#: Dataset types whose schema ``UpdateDataset`` may replace (spec 40 §10, guide L16084-L16169).
REPLACEABLE_TYPES = ("USERS", "ITEMS")


def check_schema_replacement(old: Schema, new: Schema, dataset_type: str, domain: str | None = None) -> None:
    """Check that ``new`` may replace ``old`` as the schema of a dataset (``UpdateDataset``).

    Rules (spec 40 §10, guide L16084-L16169): only Users and Items datasets; ``new`` is a valid schema
    of the dataset type (and domain); every field of ``old`` is kept with the same type, nullability and
    categorical/textual flags; every added field is nullable (a union with null).

    Raises :class:`SchemaError` naming the field and the rule.
    """
    dtype = canonical_dataset_type(dataset_type)
    if dtype not in REPLACEABLE_TYPES:
        raise SchemaError(f"Only the schema of a Users or Items dataset can be replaced, not {dtype}")
    check_schema_for_dataset(new, dtype, domain)
    for f in old.fields:
        g = new.field(f.name)
        if g is None:
            raise SchemaError(f"Field {f.name}: the new schema must keep every field of the current schema")
        if (g.type, g.nullable, g.categorical, g.textual) != (f.type, f.nullable, f.categorical, f.textual):
            raise SchemaError(
                f"Field {f.name}: the new schema must keep the field's data type and attributes "
                f"({_describe(f)}), not {_describe(g)}"
            )
    for g in new.fields:
        if old.field(g.name) is None and not g.nullable:
            raise SchemaError(f"Field {g.name}: a field added by a schema replacement must be nullable "
                              f'(a union with "null")')


def _describe(f: Field) -> str:
    flags = [flag for flag in ("categorical", "textual") if getattr(f, flag)]
    return " ".join(["nullable" if f.nullable else "non-null", *flags, f.type])
