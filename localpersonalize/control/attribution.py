"""Metric attribution reporting (spec 50 §9; guide "Measuring the impact of recommendations with metric
attribution", L17340-L18374): metric expressions, the source of each event, 15-minute aggregation, and
the report CSV that is published to S3.

No HTTP and no S3 here. The operations that produce what attribution counts call it at the source:
the runtime calls :func:`record_recommendation` for each recommendationId it creates; PutEvents (through
``api.metric_attributions.record_events``) and the import job's ``on_done`` (through
``api.metric_attributions.import_publisher``) give the events they stored or read, as columnar
:class:`Events`, to :func:`add_events`. The API layer checks requests and writes the report files to S3.

Rules:

* an expression is ``SUM(<Items|Interactions>.<numeric column>)`` or ``SAMPLECOUNT()`` (model doc of
  ``MetricAttribute.expression``); a metric counts the events whose EVENT_TYPE equals its ``eventType``
  (compared case-insensitively, as filters compare event types, guide L16480);
* the source of an event (guide L17390-L17398): its ``eventAttributionSource`` when given (it wins over a
  ``recommendationId``), else the ARN of the campaign or recommender that produced its
  ``recommendationId``, else ``SOURCE_NAME_UNDEFINED``; at most 100 distinct sources per attribution
  (guide L17388): events of a 101st source are left out of the reports;
* values are aggregated per 15-minute window of the event's timestamp (guide L17357), stamped with the
  window's start in epoch seconds;
* report lines are ``METRIC_NAME,EVENT_TYPE,VALUE,MATH_FUNCTION,EVENT_ATTRIBUTION_SOURCE,TIMESTAMP`` with
  VALUE a float (``12.0``) and MATH_FUNCTION lower case (``sum``, ``samplecount``), as the guide's sample
  report at L18184.
"""

from __future__ import annotations

import csv
import io
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidInputException
from .lifecycle import ACTIVE

#: Aggregation window (seconds), guide L17357.
WINDOW_SECONDS = 900
#: Distinct event attribution sources per metric attribution (guide L17388).
MAX_SOURCES = 100
#: Metrics per metric attribution (guide L17385; model max of ``metrics``).
MAX_METRICS = 10
#: The source of an event that names none (guide L17398).
UNDEFINED_SOURCE = "SOURCE_NAME_UNDEFINED"
#: Header of a report file (guide L18184).
REPORT_HEADER = ("METRIC_NAME", "EVENT_TYPE", "VALUE", "MATH_FUNCTION", "EVENT_ATTRIBUTION_SOURCE", "TIMESTAMP")
#: Store kind of the metric attribution resource.
KIND = "metric-attribution"
#: Recommendation IDs remembered per account/region (oldest forgotten first; ~150 bytes each, so a
#: long-running server stays within ~15 MB; an event naming an older one counts as UNDEFINED, as one
#: naming an unknown ID does).
MAX_LOGGED_RECOMMENDATIONS = 100_000

_NUMERIC = ("int", "long", "float", "double")
_SUM = re.compile(r"\s*SUM\s*\(\s*(ITEMS|INTERACTIONS)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", re.I)
_SAMPLECOUNT = re.compile(r"\s*SAMPLECOUNT\s*\(\s*\)\s*", re.I)


@dataclass(frozen=True)
class Metric:
    """One checked ``MetricAttribute``: ``name`` (metricName), ``event_type``, ``function`` (``sum`` or
    ``samplecount``), ``dataset`` (``ITEMS``/``INTERACTIONS``, None for SAMPLECOUNT), ``column``."""

    name: str
    event_type: str
    function: str
    dataset: str | None = None
    column: str | None = None


def parse_metric(attribute: dict, schemas: dict) -> Metric:
    """Check one ``MetricAttribute`` (``eventType``, ``metricName``, ``expression``) against the dataset
    group's schemas (``{"ITEMS": Schema, "INTERACTIONS": Schema}``, missing datasets absent).

    Raises:
        InvalidInputException: an empty event type or name; an expression other than ``SAMPLECOUNT()`` or
            ``SUM(Items.<col>)``/``SUM(Interactions.<col>)``; a SUM over a dataset the group lacks or a
            column its schema lacks or that is not numeric (int, long, float, double).
    """
    name, event_type, expression = attribute["metricName"], attribute["eventType"], attribute["expression"]
    if not name.strip() or not event_type.strip():
        raise InvalidInputException("A metric needs a non-empty metricName and eventType.")
    if _SAMPLECOUNT.fullmatch(expression):
        return Metric(name, event_type, "samplecount")
    m = _SUM.fullmatch(expression)
    if not m:
        raise InvalidInputException(
            f"Metric {name}: invalid expression {expression!r}; use SUM(Items.<column>), "
            "SUM(Interactions.<column>) or SAMPLECOUNT().")
    dataset, column = m.group(1).upper(), m.group(2)
    schema = schemas.get(dataset)
    label = dataset.title()
    if schema is None:
        raise InvalidInputException(f"Metric {name}: {expression} needs an {label} dataset in the dataset group.")
    found = next((f for f in schema.fields if f.name.upper() == column.upper()), None)
    if found is None:
        raise InvalidInputException(f"Metric {name}: the {label} schema has no column {column}.")
    if found.type not in _NUMERIC:
        raise InvalidInputException(
            f"Metric {name}: SUM needs a numeric column; {label}.{found.name} is of type {found.type}.")
    return Metric(name, event_type, "sum", dataset, found.name)


@dataclass
class Events:
    """Interactions to attribute, columnar: ``event_type``, ``item_id``, ``recommendation_id``,
    ``source`` (eventAttributionSource) object[n] of str/None; ``timestamp`` int64[n] epoch seconds;
    ``values``: Interactions column name -> float64[n] (NaN = null) for the numeric columns given."""

    event_type: np.ndarray
    item_id: np.ndarray
    timestamp: np.ndarray
    recommendation_id: np.ndarray
    source: np.ndarray
    values: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.timestamp)

    @classmethod
    def from_table(cls, table) -> "Events":
        """The rows of a parsed Interactions CSV (a :class:`~..data.csv_import.Table`)."""
        n = table.n_rows

        def strings(name):
            return table.strings(name) if name in table.columns else np.full(n, None, object)

        values = {name: np.asarray(col, np.float64) for name, col in table.columns.items()
                  if table.schema.field(name).type in _NUMERIC and name != "TIMESTAMP"}
        for name, nulls in table.nulls.items():
            if name in values:
                values[name] = np.where(nulls, np.nan, values[name])
        return cls(strings("EVENT_TYPE"), strings("ITEM_ID"), np.asarray(table.columns["TIMESTAMP"], np.int64),
                   strings("RECOMMENDATION_ID"), strings("EVENT_ATTRIBUTION_SOURCE"), values)

    @classmethod
    def from_rows(cls, rows: list[dict], recommendation_ids: list, sources: list) -> "Events":
        """Streamed events: ``rows`` mapped to the Interactions schema (``data.records.event_record``);
        the recommendation IDs and attribution sources come from the events themselves, since the schema
        need not have columns for them."""
        keys = {k for r in rows for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        values = {k: np.array([float(r[k]) if r.get(k) is not None else np.nan for r in rows])
                  for k in keys - {"TIMESTAMP"}}
        obj = lambda xs: np.array(list(xs), dtype=object)  # noqa: E731
        return cls(obj(r.get("EVENT_TYPE") for r in rows), obj(r.get("ITEM_ID") for r in rows),
                   np.array([int(r["TIMESTAMP"]) for r in rows], np.int64), obj(recommendation_ids), obj(sources),
                   values)


# ----- recommendation ID -> campaign / recommender
_LOGS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def record_recommendation(store, recommendation_id: str, source_arn: str) -> None:
    """Remember that ``recommendation_id`` came from the campaign or recommender ``source_arn`` (called by
    the runtime for every recommendationId it creates), so that events carrying it are attributed to that
    resource (guide L17396)."""
    with store.lock:
        log = _LOGS.setdefault(store, OrderedDict())
        log[recommendation_id] = source_arn
        if len(log) > MAX_LOGGED_RECOMMENDATIONS:
            log.popitem(last=False)


def source_of(store, recommendation_id: str | None, attribution_source: str | None) -> str:
    """The EVENT_ATTRIBUTION_SOURCE of one event (guide L17390-L17398)."""
    if attribution_source:
        return attribution_source
    if recommendation_id:
        found = _LOGS.get(store, {}).get(recommendation_id)
        if found:
            return found
    return UNDEFINED_SOURCE


# ----- aggregation
def item_values(items_dataset, item_ids: np.ndarray, column: str) -> np.ndarray:
    """float64[n]: ``column`` of the Items rows of ``item_ids`` (NaN for an item without a row or a null)."""
    out = np.full(len(item_ids), np.nan)
    if items_dataset is None or items_dataset.schema.field(column) is None:
        return out
    data = items_dataset.group
    codes = data.items.codes([i or "" for i in item_ids], add=False)
    row_of = np.full(len(data.items) + 1, -1, np.int64)
    row_of[items_dataset.codes("ITEM_ID")] = np.arange(items_dataset.n_rows)
    rows = row_of[np.where(codes >= 0, codes, len(data.items))]
    ok = rows >= 0
    col = np.asarray(items_dataset.column(column), np.float64)
    nulls = items_dataset.null_mask(column)
    vals = np.where(nulls, np.nan, col) if nulls is not None else col
    out[ok] = vals[rows[ok]]
    return out


def attribute(store, metrics: list[Metric], events: Events, items_dataset, totals: dict,
              known_sources: set) -> dict:
    """Add ``events`` to ``totals`` and return the part they added, both as
    ``{(metric name, event type, function, source, window start): value}``.

    ``items_dataset``: the group's Items :class:`~..data.datasets.Dataset` (for SUM(Items.x)) or None;
    ``known_sources``: the distinct sources seen so far (updated; new sources beyond
    :data:`MAX_SOURCES` are left out). A null summed value counts 0.
    """
    added: dict = {}
    if not len(events):
        return added
    sources = [source_of(store, r, s) for r, s in zip(events.recommendation_id, events.source)]
    windows = (events.timestamp // WINDOW_SECONDS) * WINDOW_SECONDS
    types = np.array([(t or "").lower() for t in events.event_type], dtype=object)
    for metric in metrics:
        rows = np.flatnonzero(types == metric.event_type.lower())
        if not len(rows):
            continue
        if metric.function == "samplecount":
            vals = np.ones(len(rows))
        elif metric.dataset == "ITEMS":
            vals = item_values(items_dataset, events.item_id[rows], metric.column)
        else:
            vals = events.values.get(metric.column, np.full(len(events), np.nan))[rows]
        vals = np.nan_to_num(vals, nan=0.0)
        for r, v in zip(rows.tolist(), vals.tolist()):
            src = sources[r]
            if src not in known_sources:
                if len(known_sources) >= MAX_SOURCES:
                    continue
                known_sources.add(src)
            key = (metric.name, metric.event_type, metric.function, src, int(windows[r]))
            added[key] = added.get(key, 0.0) + v
    for key, v in added.items():
        totals[key] = totals.get(key, 0.0) + v
    return added


def active_attribution(store, group_arn: str):
    """The metric attribution of dataset group ``group_arn`` (a :class:`~.store.Resource`) when it is
    ACTIVE, else None: only events recorded and jobs created while it is ACTIVE are reported (guide
    L17371)."""
    found = store.all(KIND, lambda r: r.parent == group_arn and r.status == ACTIVE)
    return found[0] if found else None


def add_events(store, res, events: Events) -> dict:
    """:func:`attribute` ``events`` to the metric attribution ``res`` (its metrics, running totals and
    sources, kept in ``res.extra``); returns what they added. Call under ``store.lock``."""
    data = store.get("dataset-group", res.parent).extra["data"]
    return attribute(store, res.extra["parsed"], events, data.dataset("ITEMS"), res.extra["totals"],
                     res.extra["sources"])


def window_reports(res, added: dict) -> dict[str, bytes]:
    """The streamed-events report files that ``added`` (from :func:`add_events`) touched: file name
    ``AggregatedAttributionMetrics-PutEvents-<window start>.csv`` → CSV of that window's running totals."""
    out = {}
    for window in sorted({key[4] for key in added}):
        totals = {k: v for k, v in res.extra["totals"].items() if k[4] == window}
        out[f"AggregatedAttributionMetrics-PutEvents-{window}.csv"] = report_csv(totals)
    return out


def report_csv(totals: dict) -> bytes:
    """A report file: the header and one line per (metric, source, window), newest window first, then by
    metric name and source (the order of the guide's sample)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_HEADER)
    for (name, event_type, function, source, window), value in sorted(
            totals.items(), key=lambda kv: (-kv[0][4], kv[0][0], kv[0][3])):
        writer.writerow((name, event_type, repr(float(value)), function, source, window))
    return out.getvalue().encode()

