"""The conformance harness: every answer of the three Personalize services, checked against the model.

* :func:`install` hooks botocore's ``before-parse`` event, so every client made afterwards hands the raw
  HTTP answer to :func:`check_exchange` before
  botocore parses it (botocore's parser silently drops unknown members and coerces types, so checking the
  parsed answer would hide exactly the mistakes we look for). A success body must match the output shape
  strictly (:func:`shape_problems`: no unknown members, no missing required ones, right JSON types); an
  error's code must be one the model declares for the operation, or ``ValidationException``. A violation
  raises :class:`NonConformingAnswer` out of the client call, failing the test that made it.
* :class:`Case` / :func:`cases_test`: conformance cases organised by operation. A family's test module
  lists ``OPERATIONS`` (the operations it covers), ``CASES`` (a success case per operation and one case per
  error the service can raise) and ``UNREACHABLE`` (``{(operation, error): why the service cannot raise
  it}``); test_coverage.py checks that the three together account for every declared error.

Adding an operation of another family takes a few lines in a new ``test_<family>.py`` here::

    OPERATIONS = ["DescribeFilter"]
    CASES = [
        Case("DescribeFilter", lambda w: w.p.describe_filter(filterArn=w.filter)),
        Case("DescribeFilter", lambda w: w.p.describe_filter(filterArn=w.missing("filter")),
             raises="ResourceNotFoundException"),
    ]
    UNREACHABLE = {("DescribeFilter", "InvalidInputException"): "ARNs are checked by the input pattern"}
    test_conformance = cases_test(CASES)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from localpersonalize.protocol import models

SERVICES = set(models.SERVICES)
#: Codes any operation may answer besides its declared errors (the generic front-end validation, and the
#: placeholder of operations not implemented yet).
GENERIC_ERRORS = {"ValidationException", "NotImplementedException"}


class NonConformingAnswer(AssertionError):
    """An answer that the botocore model does not allow."""


@dataclass
class Exchange:
    """One answer seen on the wire: service, operation, HTTP status, error code (or None), parsed body."""

    service: str
    operation: str
    status: int
    code: str | None
    body: Any


#: Every exchange since the last :func:`clear`, oldest first.
EXCHANGES: list[Exchange] = []


def shape_problems(shape, value, path: str = "") -> list[str]:
    """What is wrong with JSON ``value`` as a wire value of botocore ``shape`` (empty list: nothing).

    Structures: only declared members, required ones present; lists/maps element-wise; strings (and
    enums), booleans, integers, doubles and epoch-second timestamps by JSON type."""
    t = shape.type_name
    where = path or "<root>"
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        out = [f"{where}.{k}: unknown member of {shape.name}" for k in value if k not in shape.members]
        out += [f"{where}.{k}: required member of {shape.name} missing" for k in shape.required_members
                if k not in value]
        for k, v in value.items():
            if k in shape.members:
                out += shape_problems(shape.members[k], v, f"{path}.{k}" if path else k)
        return out
    if t == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, v in enumerate(value) for p in shape_problems(shape.member, v, f"{path}[{i}]")]
    if t == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a map"]
        return [p for k, v in value.items() for p in shape_problems(shape.value, v, f"{path}[{k}]")]
    expected = {"string": str, "boolean": bool, "integer": int, "long": int, "double": (int, float),
                "float": (int, float), "timestamp": (int, float)}.get(t)
    if expected is None:
        return []
    if isinstance(value, bool) and t != "boolean" or not isinstance(value, expected):
        return [f"{where}: expected {t}, got {type(value).__name__} {value!r}"]
    if t == "string" and shape.enum and value not in shape.enum:
        return [f"{where}: {value!r} is not one of {shape.enum}"]
    return []


def check_exchange(operation_model, response_dict, **_) -> None:
    """botocore ``before-parse`` handler: record the answer and raise :class:`NonConformingAnswer` when
    the model does not allow it."""
    service = operation_model.service_model.service_name
    if service not in SERVICES:
        return
    status = response_dict["status_code"]
    raw = response_dict.get("body") or b"{}"
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise NonConformingAnswer(f"{operation_model.name}: the answer is not JSON: {raw[:200]!r}") from None
    code = None
    if status >= 300:
        code = (response_dict["headers"].get("x-amzn-ErrorType") or body.get("__type", "")).split(":")[0]
        code = code.rsplit("#", 1)[-1]
    EXCHANGES.append(Exchange(service, operation_model.name, status, code, body))
    if code is not None:
        declared = {s.name for s in operation_model.error_shapes} | GENERIC_ERRORS
        if code not in declared:
            raise NonConformingAnswer(f"{operation_model.name} answered {code} ({body.get('message')}), which the "
                                      f"model does not declare for it: {sorted(declared)}")
        if not isinstance(body.get("message"), str):
            raise NonConformingAnswer(f"{operation_model.name} answered {code} without a message")
        return
    problems = shape_problems(operation_model.output_shape, body) if operation_model.output_shape else (
        [f"unexpected body {body}"] if body else [])
    if problems:
        raise NonConformingAnswer(f"{operation_model.name}: the answer breaks its output shape: " + "; ".join(problems))


_active = False


def install() -> None:
    """Check every answer of every botocore client made from now on (idempotent). The handler goes to
    botocore's built-in handlers, so sessions created later (moto replaces boto3's default session inside
    its mock) carry it too; it only checks while :func:`activate` is on."""
    global _active
    from botocore import handlers

    if not any(h[1] is _hook for h in handlers.BUILTIN_HANDLERS):
        handlers.BUILTIN_HANDLERS.append(("before-parse", _hook))
    _active = True


def uninstall() -> None:
    """Stop checking (the handler stays registered, inert)."""
    global _active
    _active = False


def _hook(**kwargs) -> None:
    if _active:
        check_exchange(**kwargs)


def clear() -> None:
    EXCHANGES.clear()


# ----- cases
@dataclass
class Case:
    """One conformance case of ``operation``: ``call(world)`` makes the request (setting up what it needs
    through the world first); ``raises``: the error code expected (None: success), ``match``: a piece of
    its message; ``check(result, world)``: more assertions on a success."""

    operation: str
    call: Callable
    raises: str | None = None
    match: str | None = None
    check: Callable | None = None
    name: str = ""
    marks: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.raises or 'ok'}" + (f"-{self.name}" if self.name else "")

    def run(self, world) -> None:
        if self.raises is None:
            result = self.call(world)
            assert EXCHANGES and EXCHANGES[-1].operation == self.operation, "the case did not call its operation"
            assert EXCHANGES[-1].code is None
            if self.check is not None:
                self.check(result, world)
            return
        with pytest.raises(ClientError) as err:
            self.call(world)
        error = err.value.response["Error"]
        assert err.value.operation_name == self.operation, f"the error came from {err.value.operation_name}"
        assert error["Code"] == self.raises, error
        if self.match:
            assert self.match in error["Message"], error["Message"]


def cases_test(cases: list[Case]):
    """A pytest test running each of ``cases`` against a fresh ``world`` (fixture of conftest.py)."""

    @pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in cases])
    def test_conformance(case, world):
        case.run(world)

    return test_conformance


def error_codes(operation: str) -> set[str]:
    """The error codes the model (of whichever of the three services has it) declares for ``operation``."""
    op = next(o for o in models.all_operations() if o.name == operation)
    return {s.name for s in op.error_shapes}
