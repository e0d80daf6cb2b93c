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
Hooks: the runtime answers (recommendation ID → campaign/recommender), PutEvents and
CreateDatasetImportJob are observed by wrapping their registered handlers (:func:`_observe`); their
modules are not changed.
"""

from __future__ import annotations

import logging

from .. import moto_compat
from ..control import attribution, lifecycle
from ..control.lifecycle import ACTIVE
from ..control.store import paginate
from ..data import csv_import, records
from ..errors import InvalidInputException, ResourceAlreadyExistsException, ResourceInUseException
from . import HANDLERS, operation
from .common import delete, list_page, require_active

log = logging.getLogger("localpersonalize")

KIND = "metric-attribution"


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
    return {"metricAttribution": ctx.store.describe(KIND, p["metricAttributionArn"])[1]}


@operation("ListMetricAttributions")
def list_metric_attributions(ctx, p):
    where = (lambda r: r.parent == p["datasetGroupArn"]) if p.get("datasetGroupArn") else None
    return list_page(ctx.store.all(KIND, where), p, "metricAttributions")


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


# ----- publication
def _active_attribution(store, group_arn: str):
    found = store.all(KIND, lambda r: r.parent == group_arn and r.status == ACTIVE)
    return found[0] if found else None


def _write(ctx, res, name: str, totals: dict) -> None:
    """Write one report file under the attribution's S3 path (nothing without a path). A bucket that is
    gone is logged, not raised: the events or the import are stored all the same."""
    path = (res.record["metricsOutputConfig"].get("s3DataDestination") or {}).get("path")
    if not path:
        return
    bucket, prefix = moto_compat.split_s3_uri(path if path.endswith("/") else path + "/")
    try:
        moto_compat.s3_write(ctx.account_id, bucket, prefix + name, attribution.report_csv(totals))
    except moto_compat.S3Error as exc:
        log.warning("metric attribution %s: cannot write its report: %s", res.arn, exc)


def _attribute(ctx, res, data, events: attribution.Events) -> dict:
    return attribution.attribute(ctx.store, res.extra["parsed"], events, data.dataset("ITEMS"),
                                 res.extra["totals"], res.extra["sources"])


def _after_runtime(ctx, p, answer):
    source = p.get("campaignArn") or p.get("recommenderArn")
    if answer.get("recommendationId") and source:
        attribution.log_recommendation(ctx.store, answer["recommendationId"], source)


def _after_put_events(ctx, p, answer):
    """Attribute the events of a PutEvents call that was accepted, and rewrite the touched windows' files."""
    store = ctx.store
    with store.lock:
        trackers = store.all("event-tracker", lambda t: t.record.get("trackingId") == p["trackingId"])
        res = _active_attribution(store, trackers[0].parent) if trackers else None
        if res is None:
            return
        data = store.get("dataset-group", res.parent).extra["data"]
        schema = data.dataset("INTERACTIONS").schema
        events = p["eventList"]
        rows = [records.event_record(e, p.get("userId"), schema, k + 1) for k, e in enumerate(events)]
        added = _attribute(ctx, res, data, attribution.Events.from_rows(
            rows, [e.get("recommendationId") for e in events],
            [(e.get("metricAttribution") or {}).get("eventAttributionSource") for e in events]))
        for window in sorted({key[4] for key in added}):
            totals = {k: v for k, v in res.extra["totals"].items() if k[4] == window}
            _write(ctx, res, f"AggregatedAttributionMetrics-PutEvents-{window}.csv", totals)


def _after_import_job(ctx, p, answer):
    """For an Interactions import job with ``publishAttributionMetricsToS3``: once it ends ACTIVE, publish
    the metrics of the rows it imported. Runs under the store lock, before the job can finish."""
    if not p.get("publishAttributionMetricsToS3") or str(p["publishAttributionMetricsToS3"]).lower() == "false":
        return
    store = ctx.store
    job = store.find(answer["datasetImportJobArn"])
    dataset = store.find(job.record["datasetArn"]) if job is not None else None
    transition = store.transition(job) if job is not None else None
    if dataset is None or dataset.extra.get("type") != "INTERACTIONS" or transition is None:
        return
    res = _active_attribution(store, dataset.parent)
    if res is None:
        return
    location, mode = job.record["dataSource"]["dataLocation"], job.record.get("importMode") or "FULL"
    finish = transition.finish

    def publish(reason, at):
        finish(reason, at)
        if reason is not None or store.find(res.arn) is None:
            return
        data = store.get("dataset-group", dataset.parent).extra["data"]
        bucket = moto_compat.split_s3_uri(location)[0]
        totals: dict = {}
        try:
            for key in moto_compat.s3_keys(ctx.account_id, location):
                table = csv_import.parse_csv(moto_compat.s3_read(ctx.account_id, bucket, key),
                                             data.dataset("INTERACTIONS").schema, "INTERACTIONS")
                for k, v in _attribute(ctx, res, data, attribution.Events.from_table(table)).items():
                    totals[k] = totals.get(k, 0.0) + v
        except (moto_compat.S3Error, csv_import.ImportFailure) as exc:  # changed since the job read it
            log.warning("metric attribution %s: cannot read %s again: %s", res.arn, location, exc)
            return
        _write(ctx, res, f"AggregatedAttributionMetrics-{mode}-{int(at)}.csv", totals)

    transition.finish = publish


def _observe(operation_name: str, after, locked: bool = False) -> None:
    """Call ``after(ctx, params, answer)`` after each successful call of ``operation_name``'s handler
    (under the store lock with ``locked``, so that the resource it created cannot change meanwhile)."""
    handler = HANDLERS[operation_name]

    def observed(ctx, p):
        if not locked:
            answer = handler(ctx, p)
            after(ctx, p, answer)
            return answer
        with ctx.store.lock:
            answer = handler(ctx, p)
            after(ctx, p, answer)
            return answer

    observed.__wrapped__ = handler
    observed.__doc__ = handler.__doc__
    HANDLERS[operation_name] = observed


def _install() -> None:
    from . import datasets, events, runtime  # noqa: F401  (their handlers must be registered first)

    for name, after, locked in (("GetRecommendations", _after_runtime, False),
                                ("GetPersonalizedRanking", _after_runtime, False),
                                ("PutEvents", _after_put_events, False),
                                ("CreateDatasetImportJob", _after_import_job, True)):
        if name in HANDLERS and not hasattr(HANDLERS[name], "__wrapped__"):
            _observe(name, after, locked)


_install()
