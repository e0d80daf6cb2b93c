"""The service quotas a client can run into, in one configurable table (spec 60 §1-§3).

Every quota has its AWS default, a scope (what is counted) and the message of its
``LimitExceededException``. Override one with :func:`set_quota` (the Python API, also
``localpersonalize.control.clock.set_quota`` and ``POST /_localpersonalize/quotas`` on the server) or with
the environment variable ``LOCALPERSONALIZE_QUOTA_<NAME>`` (upper case), read when the table is reset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import LimitExceededException


@dataclass(frozen=True)
class Quota:
    """``default`` value, ``scope`` (what is counted, for the docs) and the ``message`` template
    (``{limit}`` is filled in) of one quota; ``source`` is where the number comes from."""

    default: int
    scope: str
    message: str
    source: str


_ACTIVE = "There are more than {limit} resources with ACTIVE status. Delete some and try again."
_PENDING = "More than {limit} resources with PENDING or IN_PROGRESS status."

#: name -> quota. Counting "active" includes CREATE PENDING/IN_PROGRESS and INACTIVE, not failed or deleting
#: resources (spec 60 §3.3).
QUOTAS: dict[str, Quota] = {
    "active_dataset_groups": Quota(5, "active dataset groups per region", _ACTIVE, "spec 60 §2"),
    "active_schemas": Quota(500, "schemas per region", _ACTIVE, "spec 60 §2"),
    "pending_dataset_import_jobs": Quota(5, "dataset import jobs PENDING or IN_PROGRESS per region", _PENDING,
                                         "spec 60 §2, §4.1 message 2"),
    "pending_solution_versions": Quota(20, "solution versions PENDING or IN_PROGRESS per region", _PENDING,
                                       "spec 60 §2"),
    "pending_batch_inference_jobs": Quota(5, "batch inference jobs PENDING or IN_PROGRESS per region", _PENDING,
                                          "spec 60 §2"),
    "pending_batch_segment_jobs": Quota(5, "batch segment jobs PENDING or IN_PROGRESS per region", _PENDING,
                                        "spec 60 §2"),
    "active_solutions_per_dataset_group": Quota(10, "active solutions per dataset group", _ACTIVE, "spec 60 §3.1"),
    "active_campaigns_per_dataset_group": Quota(5, "active campaigns per dataset group",
                                                "Can't create campaign. " + _ACTIVE, "spec 60 §3.1, §4.3"),
    "recommenders_per_dataset_group": Quota(5, "recommenders per dataset group", _ACTIVE, "spec 60 §3.1"),
    "filters_per_dataset_group": Quota(10, "filters per dataset group", _ACTIVE, "spec 60 §1.8, §3.1"),
    "pending_data_deletion_jobs_per_dataset_group": Quota(5, "data deletion jobs PENDING per dataset group",
                                                          _PENDING, "spec 60 §1.12"),
    "tags_per_resource": Quota(50, "tags per resource (TooManyTagsException)",
                               "A resource can have at most {limit} tags.", "spec 60 §6.1"),
}

_values: dict[str, int] = {}


def limit(name: str) -> int:
    """The current value of quota ``name``. Raises KeyError for an unknown quota."""
    if name not in QUOTAS:
        raise KeyError(f"unknown quota {name!r}; known: {', '.join(QUOTAS)}")
    return _values.get(name, QUOTAS[name].default)


def set_quota(name: str, value: int) -> None:
    """Override quota ``name`` (an int ≥ 0). Raises KeyError / ValueError for a bad name or value."""
    limit(name)
    if int(value) < 0:
        raise ValueError("a quota is ≥ 0")
    _values[name] = int(value)


def reset() -> None:
    """Back to the AWS defaults, then the ``LOCALPERSONALIZE_QUOTA_<NAME>`` environment overrides."""
    _values.clear()
    for name in QUOTAS:
        env = os.environ.get(f"LOCALPERSONALIZE_QUOTA_{name.upper()}")
        if env is not None:
            set_quota(name, int(env))


def current() -> dict[str, int]:
    """Every quota's current value."""
    return {name: limit(name) for name in QUOTAS}


def check(name: str, count: int, exc=LimitExceededException) -> None:
    """Raise ``exc`` (``LimitExceededException``) with the quota's message when ``count`` resources
    already use up quota ``name`` (so one more would exceed it)."""
    n = limit(name)
    if count >= n:
        raise exc(QUOTAS[name].message.format(limit=n))


reset()
