"""The API surface: the vendored botocore service models of the three Personalize services.

The models live in ``localpersonalize/botocore_models/<service>/<api-version>/service-2.json`` (copied from
botocore, whose version is in ``BOTOCORE_VERSION`` there), so the emulator's surface does not change with
the botocore the user has installed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from botocore.model import OperationModel, ServiceModel

MODELS_DIR = Path(__file__).resolve().parent.parent / "botocore_models"

#: service name -> API version of the vendored model.
SERVICES = {
    "personalize": "2018-05-22",
    "personalize-runtime": "2018-05-22",
    "personalize-events": "2018-03-22",
}


@lru_cache(maxsize=None)
def service_model(service: str) -> ServiceModel:
    """The botocore ``ServiceModel`` of ``service`` (one of :data:`SERVICES`), loaded from the vendored JSON."""
    path = MODELS_DIR / service / SERVICES[service] / "service-2.json"
    return ServiceModel(json.loads(path.read_text()), service_name=service)


@lru_cache(maxsize=None)
def paginators(service: str) -> dict:
    """The ``pagination`` section of the vendored ``paginators-1.json`` of ``service``."""
    path = MODELS_DIR / service / SERVICES[service] / "paginators-1.json"
    return json.loads(path.read_text())["pagination"]


def botocore_version() -> str:
    """The botocore version the vendored models were copied from."""
    return (MODELS_DIR / "BOTOCORE_VERSION").read_text().strip()


@lru_cache(maxsize=None)
def rest_routes() -> dict[tuple[str, str], OperationModel]:
    """(HTTP method, request path) -> operation, for the REST-JSON services (runtime and events)."""
    routes = {}
    for service in ("personalize-runtime", "personalize-events"):
        model = service_model(service)
        for name in model.operation_names:
            op = model.operation_model(name)
            routes[(op.http["method"], op.http["requestUri"])] = op
    return routes


def all_operations() -> list[OperationModel]:
    """Every operation of the three services (71 + 3 + 5 = 79 in the vendored models)."""
    return [
        service_model(s).operation_model(name)
        for s in SERVICES
        for name in service_model(s).operation_names
    ]


class PerShape:
    """A function compiled once per botocore ``Shape`` (the validators and serializers: closures built from
    the shape's members and constraints instead of walking the shape on every request).

    ``compile(shape)`` builds the function; ``get(shape)`` returns it, cached. A shape met again while it
    is being compiled (a recursive shape) gets ``late(shape)``, a stand-in that looks the compiled function
    up when it is called."""

    def __init__(self, compile, late):
        self._compile, self._late = compile, late
        self._done: dict = {}
        self._busy: set = set()

    def get(self, shape):
        try:
            return self._done[shape]
        except KeyError:
            pass
        if shape in self._busy:
            return self._late(shape)
        self._busy.add(shape)
        try:
            fn = self._done[shape] = self._compile(shape)
        finally:
            self._busy.discard(shape)
        return fn
