"""One request in, one answer out: find the operation, parse, validate, call its handler, serialize.

Routing (see DESIGN.md): all three services sign as ``personalize``, so a request is routed on
``X-Amz-Target: AmazonPersonalize.<Operation>`` first (the JSON 1.1 control plane), then on the REST
method and path (``POST /recommendations``, ``POST /events``, ...) of personalize-runtime and
personalize-events.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from .. import errors, jsontext
from ..errors import ServiceError
from . import models, serialize, validate

log = logging.getLogger("localpersonalize")

_CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")


@dataclass
class Request:
    """A transport-neutral HTTP request: ``headers`` keys are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Context:
    """What a handler knows of its caller: the account and region (from the signature) and their store."""

    account_id: str
    region: str
    store: Any


Answer = tuple[int, dict[str, str], bytes]


def find_operation(req: Request):
    """The botocore ``OperationModel`` this request calls, or ``None``."""
    target = req.headers.get("x-amz-target", "")
    if target.startswith("AmazonPersonalize."):
        name = target.split(".", 1)[1]
        model = models.service_model("personalize")
        return model.operation_model(name) if name in model.operation_names else None
    path = req.path.split("?", 1)[0].rstrip("/") or "/"
    return models.rest_routes().get((req.method.upper(), path))


def region_of(req: Request, default: str = "us-east-1") -> str:
    """The region of the request's SigV4 credential scope (``Credential=AKID/date/REGION/...``)."""
    m = _CREDENTIAL_REGION.search(req.headers.get("authorization", ""))
    return m.group(1) if m else default


def _content_type(op) -> str:
    """``application/x-amz-json-1.1`` for the JSON 1.1 control plane, ``application/json`` for REST-JSON."""
    if op is not None and op.service_model.protocol == "rest-json":
        return "application/json"
    return "application/x-amz-json-1.1"


def _error(op, exc: ServiceError) -> Answer:
    status = exc.status
    if op is not None:
        for shape in op.error_shapes:
            if shape.name == exc.code:
                status = shape.metadata.get("error", {}).get("httpStatusCode", status)
    body = json.dumps({"__type": exc.code, "message": exc.message}).encode()
    return status, {"Content-Type": _content_type(op), "x-amzn-ErrorType": exc.code}, body


def handle(req: Request, context_for: Callable[[Request], Context]) -> Answer:
    """Answer ``req``. ``context_for`` resolves the account, region and store of the caller.

    Every failure the client can cause comes back as the service's error (``ValidationException``,
    ``InvalidInputException``, ...); an operation that is not implemented yet answers
    ``NotImplementedException`` (HTTP 501) naming it.
    """
    from ..api import HANDLERS  # the API layer sits above the protocol layer

    op = find_operation(req)
    if op is None:
        return _unknown(req)
    try:
        try:
            params = jsontext.loads(req.body or b"{}")
        except jsontext.NotJSONText as exc:
            raise SerializationException(f"The request body {exc}") from None
        if not isinstance(params, dict):
            raise SerializationException("The request body must be a JSON object")
        validate.validate(op.input_shape, params)
        handler = HANDLERS.get(op.name)
        if handler is None:
            raise errors.NotImplementedOperation(
                f"localpersonalize does not implement {op.name} yet (service {op.service_model.service_name})"
            )
        result = handler(context_for(req), params)
        return 200, {"Content-Type": _content_type(op)}, serialize.body(op.output_shape, result)
    except ServiceError as exc:
        return _error(op, exc)
    except Exception as exc:  # a bug of ours: say so plainly, and keep the traceback in the log
        log.exception("internal error in %s", op.name)
        body = json.dumps({"__type": "InternalFailure", "message": f"localpersonalize internal error in {op.name}: {exc!r}"})
        return 500, {"x-amzn-ErrorType": "InternalFailure"}, body.encode()


class SerializationException(ServiceError):
    code = "SerializationException"


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"
    status = 404


def _unknown(req: Request) -> Answer:
    target = req.headers.get("x-amz-target")
    what = f"target {target}" if target else f"{req.method} {req.path}"
    return _error(None, UnknownOperationException(f"No Personalize operation matches {what}"))
