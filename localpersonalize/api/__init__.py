"""The API layer: one handler per operation, named after it.

A handler takes the request :class:`~localpersonalize.protocol.dispatch.Context` and the validated
parameters (the decoded request body) and returns the output as a plain dict; the protocol layer writes
only the output shape's members. Importing this package registers every implemented operation in
:data:`HANDLERS`.
"""

from __future__ import annotations

from typing import Callable

HANDLERS: dict[str, Callable] = {}


def operation(name: str):
    """Register the decorated function as the handler of operation ``name`` (the model's name)."""

    def register(fn):
        HANDLERS[name] = fn
        return fn

    return register


from . import (  # noqa: E402,F401  (registration by import)
    batch,
    campaigns,
    data_jobs,
    datasets,
    events,
    filters,
    metric_attributions,
    recipes,
    recommenders,
    runtime,
    solutions,
    tags,
)
