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
