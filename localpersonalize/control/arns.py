"""ARN formats of the service (spec 30, "ARN formats"): clients rebuild ARNs from names, so these are exact."""

from __future__ import annotations

import secrets

#: resource kind -> the word in its ARN and in its messages ("The given <words> does not exist: <arn>").
KINDS = {
    "dataset-group": "dataset group",
    "schema": "schema",
    "dataset": "dataset",
    "dataset-import-job": "dataset import job",
    "dataset-export-job": "dataset export job",
    "data-deletion-job": "data deletion job",
    "solution": "solution",
    "solution-version": "solution version",
    "campaign": "campaign",
    "recommender": "recommender",
    "event-tracker": "event tracker",
    "filter": "filter",
    "batch-inference-job": "batch inference job",
    "batch-segment-job": "batch segment job",
    "metric-attribution": "metric attribution",
}


def arn(region: str, account_id: str, kind: str, name: str) -> str:
    """``arn:aws:personalize:<region>:<account>:<kind>/<name>`` (every kind but solution versions)."""
    return f"arn:aws:personalize:{region}:{account_id}:{kind}/{name}"


def dataset_arn(dataset_group_arn: str, dataset_type: str) -> str:
    """``.../dataset/<dataset group name>/<TYPE>`` with the canonical upper-case type (``INTERACTIONS``)."""
    prefix, group_name = dataset_group_arn.rsplit(":dataset-group/", 1)
    return f"{prefix}:dataset/{group_name}/{dataset_type.upper()}"


def solution_version_arn(solution_arn: str) -> str:
    """``<solution ARN>/<8 lower-case hex characters>``."""
    return f"{solution_arn}/{secrets.token_hex(4)}"


def kind_of(resource_arn: str) -> str | None:
    """The resource kind of an ARN of this service (``solution-version`` for ``solution/<n>/<id>``)."""
    parts = resource_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "personalize":
        return None
    kind, _, rest = parts[5].partition("/")
    if kind == "solution" and "/" in rest:
        return "solution-version"
    return kind if kind in KINDS else None
