"""Filters: CreateFilter, DescribeFilter, ListFilters, DeleteFilter (spec 50 §4, §8).

The expression is parsed and checked against the dataset group's schemas synchronously, so a bad one
is refused by CreateFilter itself with ``InvalidInputException`` (guide L19978-L19992); a good one goes
``CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE`` like every resource. The checked expression is kept in
``extra["expression"]`` for the runtime (api/runtime.py).
"""

from __future__ import annotations

from .. import filters
from ..control import lifecycle, quotas
from ..errors import LimitExceededException
from . import operation
from .common import list_children, not_busy

#: Distinct dataset fields across all filters of a dataset group (guide L16484).
MAX_FIELDS_PER_DATASET_GROUP = 10


def _group_filters(store, group_arn: str) -> list:
    return store.all("filter", lambda f: f.parent == group_arn)


@operation("CreateFilter")
def create_filter(ctx, p):
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        existing = _group_filters(store, group.arn)
        quotas.check("filters_per_dataset_group", len(existing))
        expression, fields = filters.compile_filter(p["filterExpression"], group.extra["data"])
        used = set(fields).union(*(f.extra["fields"] for f in existing))
        if len(used) > MAX_FIELDS_PER_DATASET_GROUP:
            raise LimitExceededException(
                f"Cannot create filter. The filters of a dataset group can use at most "
                f"{MAX_FIELDS_PER_DATASET_GROUP} distinct dataset fields; with this one they would use "
                f"{len(used)}.")
        arn = store.arn("filter", p["name"])
        record = {"name": p["name"], "filterArn": arn, "datasetGroupArn": group.arn,
                  "filterExpression": p["filterExpression"]}
        res = store.create("filter", arn, record, parent=group.arn, tags=p.get("tags"))
        res.extra.update(expression=expression, fields=fields)
    lifecycle.run_work(res, store, lambda: None)
    return {"filterArn": arn}


@operation("DescribeFilter")
def describe_filter(ctx, p):
    return {"filter": ctx.store.get("filter", p["filterArn"]).record}


@operation("ListFilters")
def list_filters(ctx, p):
    return list_children(ctx, p, "filter", "Filters", "datasetGroupArn")


@operation("DeleteFilter")
def delete_filter(ctx, p):
    """Refused (ResourceInUseException) while the filter is still being created."""
    store = ctx.store
    with store.lock:
        res = store.get("filter", p["filterArn"])
        not_busy(res, "filter")
        store.remove(res)
    return {}
