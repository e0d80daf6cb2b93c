"""The wire protocol: validation beyond botocore's client checks, error shapes, routing."""

from __future__ import annotations

import json


from localpersonalize.protocol import dispatch
from localpersonalize.control.store import Store


def send(target: str | None, body: dict | bytes, path: str = "/", method: str = "POST"):
    headers = {"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/personalize/aws4_request"}
    if target:
        headers["x-amz-target"] = f"AmazonPersonalize.{target}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    store = Store("123456789012", "eu-west-1")
    status, headers, out = dispatch.handle(dispatch.Request(method, path, headers, raw),
                                           lambda req: dispatch.Context("123456789012", "eu-west-1", store))
    return status, headers, json.loads(out)


def test_pattern_violation_is_a_validation_exception_in_aws_wording():
    status, headers, body = send("CreateDatasetGroup", {"name": "has spaces"})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == body["__type"] == "ValidationException"
    assert body["message"] == ("1 validation error detected: Value 'has spaces' at 'name' failed to satisfy "
                               "constraint: Member must satisfy regular expression pattern: "
                               "^[a-zA-Z0-9][a-zA-Z0-9\\-_]*")


def test_max_length_enum_and_missing_member_are_all_reported():
    status, _, body = send("CreateDatasetGroup", {"name": "n" * 64, "domain": "GAMES"})
    assert status == 400 and body["message"].startswith("2 validation errors detected: ")
    assert "Member must have length less than or equal to 63" in body["message"]
    assert "Member must satisfy enum value set: [ECOMMERCE, VIDEO_ON_DEMAND]" in body["message"]
    _, _, body = send("CreateSchema", {"name": "s"})
    assert "Value null at 'schema' failed to satisfy constraint: Member must not be null" in body["message"]


def test_numeric_range_on_the_runtime():
    status, _, body = send(None, {"campaignArn": "arn:aws:personalize:eu-west-1:1:campaign/c", "userId": "u",
                                  "numResults": -1}, path="/recommendations")
    assert status == 400 and "Member must have value greater than or equal to 0" in body["message"]


def test_unknown_target_and_bad_json():
    status, _, body = send("NoSuchThing", {})
    assert status == 404 and body["__type"] == "UnknownOperationException"
    status, _, body = send("ListSchemas", b"{not json")
    assert status == 400 and body["__type"] == "SerializationException"


def test_a_body_nested_too_deeply_is_a_serialization_exception_not_a_500():
    deep = b'{"campaignArn": "arn:aws:personalize:eu-west-1:1:campaign/c", "userId": "u1", "context": ' \
        + b'{"a": ' * 100_000 + b'1' + b'}' * 100_001
    status, _, body = send(None, deep, path="/recommendations")
    assert status == 400 and body["__type"] == "SerializationException" and "too deeply" in body["message"]


def test_region_comes_from_the_signature():
    req = dispatch.Request("POST", "/", {"authorization": "AWS4-HMAC-SHA256 Credential=A/20260101/ap-northeast-1/personalize/aws4_request"}, b"")
    assert dispatch.region_of(req) == "ap-northeast-1"


def test_runtime_not_found_is_404_from_the_runtime_model():
    status, _, body = send(None, {"campaignArn": "arn:aws:personalize:eu-west-1:123456789012:campaign/none",
                                  "userId": "u"}, path="/recommendations")
    assert status == 400 and body["__type"] == "InvalidInputException"
    assert "does not exist or is not active" in body["message"]


def test_java_unicode_class_patterns_are_enforced():
    """The tag patterns use \\p{L}\\p{Z}\\p{N} (Java); they are checked, not skipped."""
    status, _, body = send("TagResource", {"resourceArn": "arn:aws:personalize:eu-west-1:1:schema/s",
                                           "tags": [{"tagKey": "a#b", "tagValue": "v"}]})
    assert status == 400 and "tags.1.member.tagKey" in body["message"]
    assert "regular expression pattern" in body["message"]


def test_an_unpaired_surrogate_is_a_serialization_exception_and_a_pair_is_text():
    body = b'{"campaignArn": "arn:aws:personalize:eu-west-1:1:campaign/c", "userId": "u\\ud800"}'
    status, _, out = send(None, body, path="/recommendations")
    assert status == 400 and out["__type"] == "SerializationException" and "unpaired UTF-16 surrogate" in out["message"]
    status, _, out = send("CreateDatasetGroup", b'{"name": "g\\udfff"}')
    assert status == 400 and out["__type"] == "SerializationException"
    paired = b'{"campaignArn": "arn:aws:personalize:eu-west-1:1:campaign/c", "userId": "u\\ud83d\\ude00"}'
    status, _, out = send(None, paired, path="/recommendations")      # an emoji: on to the campaign check
    assert status == 400 and out["__type"] == "InvalidInputException" and "does not exist" in out["message"]
