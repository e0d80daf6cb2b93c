"""Metric attributions: CreateMetricAttribution, DescribeMetricAttribution, ListMetricAttributions,
UpdateMetricAttribution, DeleteMetricAttribution, ListMetricAttributionMetrics (spec 50 §9; guide
L17340-L18374), and the reports they publish to S3.

Reports (the calculation is in :mod:`localpersonalize.control.attribution`) are written to the
attribution's ``metricsOutputConfig.s3DataDestination.path``:

* ``AggregatedAttributionMetrics-PutEvents-<window start>.csv`` for streamed events (the service sends
  those to CloudWatch; the emulator writes them to S3 so that they can be read back): one file per 15-minute
  window of event time, rewritten with the window's running totals after each PutEvents call;
* ``AggregatedAttributionMetrics-<importMode>-<epoch seconds>.csv`` (``FULL`` or ``INCREMENTAL``) once an
  Interactions import job created with ``publishAttributionMetricsToS3`` is ACTIVE: the metrics of the
  rows of that job (guide L18172-L18184: one new file per publication, named after the import method and
  the time).

Only events recorded and jobs created while the attribution is ACTIVE are reported (guide L17371).
The operations call attribution explicitly: the runtime calls ``control.attribution.record_recommendation``
for each recommendationId, PutEvents calls :func:`record_events`, and CreateDatasetImportJob passes
:func:`import_publisher` as its job's ``on_done``.
"""

from __future__ import annotations

import logging

from .. import moto_compat
from ..control import attribution, lifecycle
from ..control.store import paginate
from ..data import csv_import
from ..errors import InvalidInputException, ResourceAlreadyExistsException
from . import operation
from .common import delete, describe_record, list_children, require_active

log = logging.getLogger("localpersonalize")

KIND = attribution.KIND


def _schemas(group) -> dict:
    data = group.extra["data"]
    return {t: data.dataset(t).schema for t in ("ITEMS", "INTERACTIONS") if data.dataset(t) is not None}


def _parse_metrics(group, metrics: list[dict]) -> list[attribution.Metric]:
    """Checked metrics; raises InvalidInputException for a bad expression, a repeated metricName, or an
    Interactions dataset without EVENT_TYPE (guide L17383)."""
    schemas = _schemas(group)
    interactions = schemas.get("INTERACTIONS")
    if interactions is not None and interactions.field("EVENT_TYPE") is None:
        raise InvalidInputException("Metric attribution needs an EVENT_TYPE column in the Interactions dataset.")
    parsed = [attribution.parse_metric(m, schemas) for m in metrics]
    names = [m.name for m in parsed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInputException(f"Metric names must be unique; repeated: {', '.join(repeated)}.")
    return parsed


def _check_output(config: dict) -> dict:
    """``metricsOutputConfig``: the optional S3 path must be ``s3://bucket/...``."""
    path = (config.get("s3DataDestination") or {}).get("path")
    if path is not None:
        try:
            moto_compat.split_s3_uri(path if path.endswith("/") else path + "/")
        except moto_compat.InvalidLocation:
            raise InvalidInputException(f"Invalid S3 path {path!r} in metricsOutputConfig: use s3://bucket/folder/.")
    return dict(config)


@operation("CreateMetricAttribution")
def create_metric_attribution(ctx, p):
    """One metric attribution per dataset group (ResourceAlreadyExistsException), 1-10 metrics; walks the
    create chain to ACTIVE."""
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        require_active(group, "dataset group")
        existing = store.all(KIND, lambda r: r.parent == group.arn)
        if existing:
            raise ResourceAlreadyExistsException(
                f"Dataset group {group.arn} already has a metric attribution: {existing[0].arn}.")
        if not p["metrics"]:
            raise InvalidInputException("A metric attribution needs at least one metric.")
        parsed = _parse_metrics(group, p["metrics"])
        arn = store.arn(KIND, p["name"])
        record = {"name": p["name"], "metricAttributionArn": arn, "datasetGroupArn": group.arn,
                  "metricsOutputConfig": _check_output(p["metricsOutputConfig"])}
        res = store.create(KIND, arn, record, parent=group.arn)
        res.extra.update(metrics=[dict(m) for m in p["metrics"]], parsed=parsed, totals={}, sources=set())
        lifecycle.run_work(res, store, None)
    return {"metricAttributionArn": arn}


@operation("DescribeMetricAttribution")
def describe_metric_attribution(ctx, p):
    return describe_record(ctx, p, KIND, "metricAttribution")


@operation("ListMetricAttributions")
def list_metric_attributions(ctx, p):
    return list_children(ctx, p, KIND, "metricAttributions", "datasetGroupArn")


@operation("ListMetricAttributionMetrics")
def list_metric_attribution_metrics(ctx, p):
    """The attribution's metrics in the order they were added."""
    if not p.get("metricAttributionArn"):
        raise InvalidInputException("metricAttributionArn is required.")
    res = ctx.store.find(p["metricAttributionArn"])
    if res is None or res.kind != KIND:  # the operation declares no ResourceNotFoundException
        raise InvalidInputException(f"The given metric attribution does not exist: {p['metricAttributionArn']}")
    page, token = paginate(list(res.extra["metrics"]), p, scope="metrics" + res.arn)
    return {"metrics": page, "nextToken": token}


@operation("UpdateMetricAttribution")
def update_metric_attribution(ctx, p):
    """Add metrics (a name already present: ResourceAlreadyExistsException), remove metrics by name (an
    unknown name: InvalidInputException), replace the output config; at most 10 metrics remain. Applied
    at once; refused (ResourceInUseException) unless the attribution is ACTIVE."""
    store = ctx.store
    with store.lock:
        if not p.get("metricAttributionArn"):
            raise InvalidInputException("metricAttributionArn is required.")
        res = store.get(KIND, p["metricAttributionArn"])
        require_active(res, "metric attribution")
        metrics = list(res.extra["metrics"])
        remove = list(p.get("removeMetrics") or [])
        unknown = [n for n in remove if n not in {m["metricName"] for m in metrics}]
        if unknown:
            raise InvalidInputException(f"The metric attribution has no metric named {', '.join(unknown)}.")
        metrics = [m for m in metrics if m["metricName"] not in remove]
        added = list(p.get("addMetrics") or [])
        taken = [m["metricName"] for m in added if m["metricName"] in {x["metricName"] for x in metrics}]
        if taken:
            raise ResourceAlreadyExistsException(f"The metric attribution already has a metric named {taken[0]}.")
        metrics += added
        if len(metrics) > attribution.MAX_METRICS:
            raise InvalidInputException(
                f"A metric attribution can have at most {attribution.MAX_METRICS} metrics; the update leaves "
                f"{len(metrics)}.")
        if not metrics:
            raise InvalidInputException("A metric attribution needs at least one metric.")
        parsed = _parse_metrics(store.get("dataset-group", res.parent), metrics)
        fields = {}
        if p.get("metricsOutputConfig"):
            fields["metricsOutputConfig"] = _check_output(p["metricsOutputConfig"])
        res.extra.update(metrics=metrics, parsed=parsed)
        store.touch(res, **fields)
    return {"metricAttributionArn": res.arn}


@operation("DeleteMetricAttribution")
def delete_metric_attribution(ctx, p):
    """DELETE PENDING > DELETE IN_PROGRESS > gone; reports already published stay (spec 50 §9.2)."""
    store = ctx.store
    with store.lock:
        delete(store, store.get(KIND, p["metricAttributionArn"]), "metric attribution")
    return {}


# ----- publication (called by PutEvents and by import jobs; the calculation is in control/attribution.py)
def _write(ctx, res, name: str, body: bytes) -> None:
    """Write one report file under the attribution's S3 path (nothing without a path). A bucket that is
    gone is logged, not raised: the events or the import are stored all the same."""
    path = (res.record["metricsOutputConfig"].get("s3DataDestination") or {}).get("path")
    if not path:
        return
    bucket, prefix = moto_compat.split_s3_uri(path if path.endswith("/") else path + "/")
    try:
        moto_compat.s3_write(ctx.account_id, bucket, prefix + name, body)
    except moto_compat.S3Error as exc:
        log.warning("metric attribution %s: cannot write its report: %s", res.arn, exc)


def record_events(ctx, group_arn: str, rows: list[dict], events: list[dict]) -> None:
    """Called by PutEvents once it stored ``events`` (its ``eventList``) as ``rows`` (mapped to the
    Interactions schema) in dataset group ``group_arn``: attribute them to the group's ACTIVE metric
    attribution, if any, and rewrite the report files of the 15-minute windows they touched."""
    store = ctx.store
    with store.lock:
        res = attribution.active_attribution(store, group_arn)
        if res is None:
            return
        added = attribution.add_events(store, res, attribution.Events.from_rows(
            rows, [e.get("recommendationId") for e in events],
            [(e.get("metricAttribution") or {}).get("eventAttributionSource") for e in events]))
        for name, body in attribution.window_reports(res, added).items():
            _write(ctx, res, name, body)


def import_publisher(ctx, job):
    """The ``on_done(reason)`` of import job ``job`` (a Resource, just created): None unless it is an
    Interactions job with ``publishAttributionMetricsToS3`` created while its group's metric attribution
    is ACTIVE (guide L17371, L18172-L18184); else a callback that, once the job is ACTIVE and if that
    attribution still exists, reads the job's rows again and writes
    ``AggregatedAttributionMetrics-<importMode>-<epoch seconds>.csv`` with their metrics."""
    store = ctx.store
    with store.lock:
        dataset = store.find(job.record["datasetArn"])
        if not job.record.get("publishAttributionMetricsToS3") or dataset is None \
                or dataset.extra.get("type") != "INTERACTIONS":
            return None
        res = attribution.active_attribution(store, dataset.parent)
    if res is None:
        return None
    location, mode = job.record["dataSource"]["dataLocation"], job.record.get("importMode") or "FULL"

    def publish(reason):
        if reason is not None or store.find(res.arn) is None:
            return
        schema = store.get("dataset-group", dataset.parent).extra["data"].dataset("INTERACTIONS").schema
        bucket = moto_compat.split_s3_uri(location)[0]
        totals: dict = {}
        try:
            for key in moto_compat.s3_keys(ctx.account_id, location):
                table = csv_import.parse_csv(moto_compat.s3_read(ctx.account_id, bucket, key), schema,
                                             "INTERACTIONS")
                for k, v in attribution.add_events(store, res, attribution.Events.from_table(table)).items():
                    totals[k] = totals.get(k, 0.0) + v
        except (moto_compat.S3Error, csv_import.ImportFailure) as exc:  # changed since the job read it
            log.warning("metric attribution %s: cannot read %s again: %s", res.arn, location, exc)
            return
        at = int(job.record["lastUpdatedDateTime"])  # the time the job turned ACTIVE
        _write(ctx, res, f"AggregatedAttributionMetrics-{mode}-{at}.csv", attribution.report_csv(totals))

    return publish
