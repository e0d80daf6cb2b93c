"""The conformance cases account for every operation of the three models (each claimed by one family
module) and every error the model declares for it: each has a success case, and each declared error a
case or a reason in UNREACHABLE. Also checks the harness itself catches answers the model does not allow."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from localpersonalize.protocol import models

from . import harness

MODULES = [importlib.import_module(f"{__package__}.{m.name}") for m in pkgutil.iter_modules([str(Path(__file__).parent)])
           if m.name.startswith("test_") and m.name != "test_coverage"]
FAMILIES = [m for m in MODULES if hasattr(m, "OPERATIONS")]
CLAIMED = [(m, op) for m in FAMILIES for op in m.OPERATIONS]


@pytest.mark.parametrize("module,operation", CLAIMED, ids=[op for _, op in CLAIMED])
def test_every_declared_error_of_the_operation_has_a_case_or_a_reason(module, operation):
    outcomes = {c.raises for c in module.CASES if c.operation == operation}
    assert None in outcomes, f"{operation} has no success case"
    missing = [code for code in sorted(harness.error_codes(operation))
               if code not in outcomes and (operation, code) not in module.UNREACHABLE]
    assert not missing, f"{operation}: no case for {missing}"


def test_every_case_raises_only_errors_its_operation_declares():
    for module in FAMILIES:
        for case in module.CASES:
            if case.raises is not None:
                assert case.raises in harness.error_codes(case.operation) | {"ValidationException"}, case.id


def test_every_operation_of_the_three_models_has_a_conformance_module():
    names = {op.name for op in models.all_operations()}
    assert len(names) == 79  # personalize 71, personalize-runtime 3, personalize-events 5
    unclaimed = sorted(names - {op for _, op in CLAIMED})
    assert not unclaimed, f"no conformance module claims {unclaimed}"


def test_unreachable_reasons_name_declared_errors_of_claimed_operations():
    for module in FAMILIES:
        for (operation, code), why in module.UNREACHABLE.items():
            assert operation in module.OPERATIONS and code in harness.error_codes(operation), (operation, code)
            assert why.strip(), (operation, code)


def test_operations_are_claimed_once_and_exist():
    names = {op.name for op in models.all_operations()}
    claimed = [op for _, op in CLAIMED]
    assert len(claimed) == len(set(claimed))
    assert set(claimed) <= names


class _Op:
    """A stand-in for a botocore OperationModel (the harness reads name, shapes and service name)."""

    def __init__(self, name):
        self._op = models.service_model("personalize").operation_model(name)
        self.name, self.output_shape, self.error_shapes = name, self._op.output_shape, self._op.error_shapes
        self.service_model = self._op.service_model


def answer(status, body, error=None):
    import json

    return {"status_code": status, "headers": {"x-amzn-ErrorType": error} if error else {},
            "body": json.dumps(body).encode()}


def test_the_harness_refuses_unknown_members_wrong_types_and_undeclared_errors():
    op = _Op("DescribeDatasetGroup")
    good = {"datasetGroup": {"name": "g", "datasetGroupArn": "arn", "status": "ACTIVE", "creationDateTime": 1.5}}
    harness.check_exchange(op, answer(200, good))
    with pytest.raises(harness.NonConformingAnswer, match="unknown member"):
        harness.check_exchange(op, answer(200, {"datasetGroup": dict(good["datasetGroup"], extra=1)}))
    with pytest.raises(harness.NonConformingAnswer, match="expected timestamp"):
        harness.check_exchange(op, answer(200, {"datasetGroup": dict(good["datasetGroup"], creationDateTime="x")}))
    with pytest.raises(harness.NonConformingAnswer, match="does not declare"):
        harness.check_exchange(op, answer(400, {"__type": "LimitExceededException", "message": "m"},
                                          "LimitExceededException"))
    harness.check_exchange(op, answer(400, {"__type": "ValidationException", "message": "m"}, "ValidationException"))
