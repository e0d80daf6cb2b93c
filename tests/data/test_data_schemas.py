"""Schema rules (spec 10 §3-§4): the guide's examples pass, each broken rule fails naming the field."""
import json

import pytest

from localpersonalize.data.schemas import (
    Field,
    SchemaError,
    canonical_dataset_type,
    check_schema_for_dataset,
    parse_schema,
)

NS = "com.amazonaws.personalize.schema"


def schema(name, *fields):
    return json.dumps({"type": "record", "name": name, "namespace": NS, "fields": list(fields), "version": "1.0"})


def f(name, type_, **kw):
    return {"name": name, "type": type_, **kw}


# ---- the guide's examples (valid) -----------------------------------------

GUIDE_CUSTOM = {
    # L5518-L5569
    "interactions": schema(
        "Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("EVENT_TYPE", "string"),
        f("EVENT_VALUE", ["float", "null"]), f("LOCATION", "string", categorical=True),
        f("DEVICE", ["string", "null"], categorical=True), f("TIMESTAMP", "long"), f("IMPRESSION", "string")),
    # L5609-L5640
    "users": schema("Users", f("USER_ID", "string"), f("AGE", "int"), f("GENDER", "string", categorical=True)),
    # L5672-L5712
    "items": schema(
        "Items", f("ITEM_ID", "string"), f("GENRES", ["null", "string"], categorical=True),
        f("CREATION_TIMESTAMP", "long"), f("DESCRIPTION", ["null", "string"], textual=True)),
    # L5745-L5795
    "actions": schema(
        "Actions", f("ACTION_ID", "string"), f("VALUE", ["null", "long"]),
        f("MEMBERSHIP_LEVEL", ["null", "string"], categorical=True), f("CREATION_TIMESTAMP", "long"),
        f("REPEAT_FREQUENCY", ["long", "null"])),
    # L5823-L5857
    "action_interactions": schema(
        "ActionInteractions", f("USER_ID", "string"), f("ACTION_ID", "string"), f("EVENT_TYPE", "string"),
        f("TIMESTAMP", "long")),
    # custom tutorial (3 columns)
    "tutorial": schema("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long")),
}

GUIDE_DOMAIN = {
    # L5088-L5113 / L5294-L5318
    ("VIDEO_ON_DEMAND", "interactions"): schema(
        "Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("EVENT_TYPE", "string"),
        f("TIMESTAMP", "long")),
    # L5143-L5160
    ("VIDEO_ON_DEMAND", "users"): schema(
        "Users", f("USER_ID", "string"), f("SUBSCRIPTION_MODEL", "string", categorical=True)),
    # L5206-L5228
    ("VIDEO_ON_DEMAND", "items"): schema(
        "Items", f("ITEM_ID", "string"), f("GENRES", ["string"], categorical=True), f("CREATION_TIMESTAMP", "long")),
    ("ECOMMERCE", "interactions"): schema(
        "Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("EVENT_TYPE", "string"),
        f("TIMESTAMP", "long")),
    # L5343-L5362
    ("ECOMMERCE", "users"): schema(
        "Users", f("USER_ID", "string"), f("MEMBERSHIP_STATUS", "string", categorical=True)),
    # L5416-L5440
    ("ECOMMERCE", "items"): schema(
        "Items", f("ITEM_ID", "string"), f("PRICE", "float"), f("CATEGORY_L1", ["string"], categorical=True)),
}


@pytest.mark.parametrize("key", sorted(GUIDE_CUSTOM))
def test_guide_custom_schema_examples_are_valid(key):
    s = parse_schema(GUIDE_CUSTOM[key], None)
    assert s.json == GUIDE_CUSTOM[key]
    assert s.dataset_type == canonical_dataset_type(s.name)
    check_schema_for_dataset(s, s.name, None)


@pytest.mark.parametrize("domain,key", sorted(GUIDE_DOMAIN))
def test_guide_domain_schema_examples_are_valid(domain, key):
    s = parse_schema(GUIDE_DOMAIN[(domain, key)], domain)
    check_schema_for_dataset(s, key.upper(), domain)


def test_parsed_fields_expose_type_nullability_and_flags():
    s = parse_schema(GUIDE_CUSTOM["items"], None)
    assert s.name == "Items"
    assert s.field_names == ["ITEM_ID", "GENRES", "CREATION_TIMESTAMP", "DESCRIPTION"]
    assert s.field("GENRES") == Field("GENRES", "string", nullable=True, categorical=True)
    assert s.field("DESCRIPTION") == Field("DESCRIPTION", "string", nullable=True, textual=True)
    assert s.field("CREATION_TIMESTAMP") == Field("CREATION_TIMESTAMP", "long")
    assert s.field("NOPE") is None


def test_long_form_primitive_type_is_accepted():
    s = parse_schema(schema("Users", f("USER_ID", {"type": "string"}), f("AGE", {"type": "int"}),
                            f("CITY", ["null", {"type": "string"}], categorical=True)))
    assert s.field("AGE").type == "int"
    assert (s.field("CITY").type, s.field("CITY").nullable) == ("string", True)


@pytest.mark.parametrize("value,expected", [
    ("Interactions", "INTERACTIONS"), ("INTERACTIONS", "INTERACTIONS"), ("interactions", "INTERACTIONS"),
    ("Users", "USERS"), ("Items", "ITEMS"), ("Actions", "ACTIONS"),
    ("Action_Interactions", "ACTION_INTERACTIONS"), ("ActionInteractions", "ACTION_INTERACTIONS"),
    ("ACTION_INTERACTIONS", "ACTION_INTERACTIONS"), ("Events", None), ("", None), (None, None),
])
def test_canonical_dataset_type(value, expected):
    assert canonical_dataset_type(value) == expected


# ---- broken schemas: one rule each, the message names the field -----------

def _bad(name, *fields, domain=None):
    return schema(name, *fields), domain


BROKEN = {
    "nested_record": (_bad("Users", f("USER_ID", "string"),
                           f("ADDR", {"type": "record", "name": "A", "fields": []})), "ADDR", "flat"),
    "array_type": (_bad("Users", f("USER_ID", "string"), f("TAGS", {"type": "array", "items": "string"})),
                   "TAGS", "flat"),
    "enum_type": (_bad("Users", f("USER_ID", "string"), f("TIER", {"type": "enum", "name": "T", "symbols": ["A"]})),
                  "TIER", "flat"),
    "unknown_primitive": (_bad("Users", f("USER_ID", "string"), f("PIC", "bytes")), "PIC", "not allowed"),
    "union_of_two_types": (_bad("Users", f("USER_ID", "string"), f("AGE", ["int", "string"])), "AGE", "union"),
    "null_only": (_bad("Users", f("USER_ID", "string"), f("AGE", "null")), "AGE", "union"),
    "categorical_on_int": (_bad("Users", f("USER_ID", "string"), f("AGE", "int", categorical=True)),
                           "AGE", "only allowed on string"),
    "textual_on_long": (_bad("Items", f("ITEM_ID", "string"), f("P", "long", textual=True)),
                        "P", "only allowed on string"),
    "categorical_and_textual": (_bad("Items", f("ITEM_ID", "string"), f("D", "string", textual=True, categorical=True)),
                                "D", "both"),
    "textual_outside_items": (_bad("Users", f("USER_ID", "string"), f("BIO", "string", textual=True),
                                   f("AGE", "int")), "BIO", "only allowed in an Items schema"),
    "two_textual": (_bad("Items", f("ITEM_ID", "string"), f("D1", "string", textual=True),
                         f("D2", "string", textual=True)), "D2", "at most one textual"),
    "names_not_unique_alphanumerically": (
        _bad("Items", f("ITEM_ID", "string"), f("GENRES_FIELD_1", "string", categorical=True),
             f("GENRESFIELD1", "string", categorical=True)), "GENRESFIELD1", "unique alphanumerically"),
    "missing_required_timestamp": (_bad("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string")),
                                   "TIMESTAMP", "required field"),
    "required_wrong_type": (_bad("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"),
                                 f("TIMESTAMP", "string")), "TIMESTAMP", "must have type long"),
    "required_nullable": (_bad("Interactions", f("USER_ID", ["null", "string"]), f("ITEM_ID", "string"),
                               f("TIMESTAMP", "long")), "USER_ID", "cannot be nullable"),
    "event_type_categorical": (_bad("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"),
                                    f("TIMESTAMP", "long"), f("EVENT_TYPE", "string", categorical=True)),
                               "EVENT_TYPE", 'must not set "categorical"'),
    "event_value_string": (_bad("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"),
                                f("TIMESTAMP", "long"), f("EVENT_VALUE", "string")),
                           "EVENT_VALUE", "must have type"),
    "users_without_metadata": (_bad("Users", f("USER_ID", "string")), "Users".upper(), "at least 1 metadata"),
    "users_plain_string_is_not_metadata": (_bad("Users", f("USER_ID", "string"), f("NAME", "string")),
                                           "USERS", "at least 1 metadata"),
    "too_many_interaction_metadata": (
        _bad("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
             *[f(f"M{i}", "string", categorical=True) for i in range(6)]), "M5", "at most 5"),
    "too_many_action_metadata": (
        _bad("Actions", f("ACTION_ID", "string"), *[f(f"M{i}", "long") for i in range(11)]), "M10", "at most 10"),
    "vod_items_missing_genres": (_bad("Items", f("ITEM_ID", "string"), f("CREATION_TIMESTAMP", "long"),
                                      domain="VIDEO_ON_DEMAND"), "GENRES", "required field"),
    "vod_genres_not_categorical": (_bad("Items", f("ITEM_ID", "string"), f("CREATION_TIMESTAMP", "long"),
                                        f("GENRES", "string"), domain="VIDEO_ON_DEMAND"),
                                   "GENRES", 'must set "categorical"'),
    "domain_interactions_need_event_type": (
        _bad("Interactions", f("USER_ID", "string"), f("ITEM_ID", "string"), f("TIMESTAMP", "long"),
             domain="ECOMMERCE"), "EVENT_TYPE", "required field"),
    "ecommerce_items_need_price": (_bad("Items", f("ITEM_ID", "string"), f("CATEGORY_L1", "string", categorical=True),
                                        domain="ECOMMERCE"), "PRICE", "required field"),
    "domain_description_must_be_textual": (
        _bad("Items", f("ITEM_ID", "string"), f("PRICE", "float"), f("CATEGORY_L1", "string", categorical=True),
             f("PRODUCT_DESCRIPTION", ["null", "string"]), domain="ECOMMERCE"),
        "PRODUCT_DESCRIPTION", 'must set "textual"'),
    "actions_in_domain": (_bad("Actions", f("ACTION_ID", "string"), f("VALUE", ["null", "long"]),
                               domain="VIDEO_ON_DEMAND"), "ACTIONS", "not supported"),
    "domain_unknown_record_name": (_bad("Things", f("USER_ID", "string"), domain="ECOMMERCE"),
                                   "Things", "not a dataset type"),
    "id_as_metadata": (_bad("Users", f("USER_ID", "string"), f("ITEM_ID", "string"), f("AGE", "int")),
                       "ITEM_ID", "reserved ID name"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_schema_rule(case):
    (text, domain), field_name, rule = BROKEN[case]
    with pytest.raises(SchemaError) as e:
        parse_schema(text, domain)
    msg = str(e.value)
    assert field_name in msg and rule in msg, msg


@pytest.mark.parametrize("text,rule", [
    ("not json", "not valid JSON"),
    (json.dumps({"type": "array", "items": "string"}), "Avro record"),
    (json.dumps({"type": "record", "fields": [f("USER_ID", "string")]}), "must have a name"),
    (json.dumps({"type": "record", "name": "Users", "fields": []}), "non-empty fields"),
])
def test_malformed_schema_document(text, rule):
    with pytest.raises(SchemaError, match=rule):
        parse_schema(text, None)


def test_unknown_domain():
    with pytest.raises(SchemaError, match="Unknown domain"):
        parse_schema(GUIDE_CUSTOM["users"], "RETAIL")


def test_record_name_must_match_dataset_type():
    s = parse_schema(GUIDE_CUSTOM["users"])
    with pytest.raises(SchemaError, match="does not match dataset type ITEMS"):
        check_schema_for_dataset(s, "Items", None)


def test_custom_schema_with_non_dataset_name_parses_but_cannot_make_a_dataset():
    s = parse_schema(schema("MySchema", f("USER_ID", "string"), f("AGE", "int")))
    assert s.dataset_type is None
    with pytest.raises(SchemaError, match="does not match dataset type USERS"):
        check_schema_for_dataset(s, "USERS", None)


def test_custom_schema_refused_for_domain_rules():
    # custom Interactions schema without EVENT_TYPE is fine custom, not in a domain group
    s = parse_schema(GUIDE_CUSTOM["tutorial"])
    with pytest.raises(SchemaError, match="EVENT_TYPE"):
        check_schema_for_dataset(s, "INTERACTIONS", "VIDEO_ON_DEMAND")


def test_both_expiration_field_spellings_are_reserved():
    for name in ("EXPIRATION_TIMESTAMP", "ACTION_EXPIRATION_TIMESTAMP"):
        parse_schema(schema("Actions", f("ACTION_ID", "string"), f("VALUE", ["null", "long"]),
                            f(name, ["null", "long"])))
        with pytest.raises(SchemaError, match=name):
            parse_schema(schema("Actions", f("ACTION_ID", "string"), f("VALUE", ["null", "long"]),
                                f(name, "string")))


def test_namespace_is_not_checked():
    s = json.loads(GUIDE_CUSTOM["users"])
    s["namespace"] = "com.amazon.personalize.schema"  # console screenshot variant, L2949
    parse_schema(json.dumps(s))


@pytest.mark.parametrize("value, words", [
    ("[" * 5000 + "]" * 5000, "nests JSON values too deeply"),
    ("1" + "0" * 4300, "holds an integer of more than 4300 digits"),
])
def test_json_that_python_cannot_decode_is_invalid_input(value, words):
    text = ('{"type": "record", "name": "Users", "fields": [{"name": "USER_ID", "type": "string"}, '
            '{"name": "A", "type": "int", "doc": ' + value + '}]}')
    with pytest.raises(SchemaError, match=f"^Schema {words}"):
        parse_schema(text)
