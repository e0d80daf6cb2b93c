"""Contract: every operation of the three vendored models, sent through boto3, gets an answer the model
allows, never an HTTP 500: a success, a declared error, ValidationException, or (for an operation not
implemented yet) NotImplementedException."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localpersonalize import mock_personalize
from localpersonalize.protocol import models

OPERATIONS = [(op.service_model.service_name, op.name) for op in models.all_operations()]
ARN = "arn:aws:personalize:us-east-1:123456789012:solution/missing"


def plausible(shape, name: str = ""):
    """A value of ``shape`` that passes botocore's client-side checks (not necessarily the server's)."""
    t = shape.type_name
    if t == "structure":
        return {m: plausible(shape.members[m], m) for m in shape.required_members}
    if t == "list":
        return [plausible(shape.member, name)] * max(shape.metadata.get("min", 0), 1)
    if t == "map":
        return {}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        if name.lower().endswith("arn"):
            return ARN
        return "x" * max(shape.metadata.get("min", 1), 1)
    if t in ("integer", "long"):
        return max(int(shape.metadata.get("min", 1)), 1)
    if t in ("float", "double"):
        return float(shape.metadata.get("min", 1))
    if t == "boolean":
        return False
    if t == "timestamp":
        return 1_700_000_000
    return "x"


def test_the_models_have_79_operations():
    assert len(OPERATIONS) == 79
    assert {s for s, _ in OPERATIONS} == {"personalize", "personalize-runtime", "personalize-events"}


@pytest.fixture(scope="module")
def clients():
    with mock_personalize():
        kw = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        strict = {s: boto3.client(s, **kw) for s in models.SERVICES}
        loose = {s: boto3.client(s, config=Config(parameter_validation=False), **kw) for s in models.SERVICES}
        yield strict, loose


def call(client, operation: str, params: dict):
    python_name = {api: py for py, api in client.meta.method_to_api_mapping.items()}[operation]
    method = getattr(client, python_name)
    try:
        method(**params)
        return 200, None
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


@pytest.mark.parametrize("service,operation", OPERATIONS)
def test_no_operation_answers_500(clients, service, operation):
    strict, loose = clients
    op = models.service_model(service).operation_model(operation)
    declared = {s.name for s in op.error_shapes} | {"ValidationException", "NotImplementedException"}
    for client, params in ((strict, plausible(op.input_shape) if op.input_shape else {}),
                           (loose, {})):
        status, code = call(client[service], operation, params)
        assert status != 500, f"{operation} answered 500 ({code})"
        assert code is None or code in declared, f"{operation} answered undeclared {code}"
