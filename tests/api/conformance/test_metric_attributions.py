"""Conformance of metric attributions, by operation (one shared world for the module)."""

from __future__ import annotations

import pytest

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN
from .world import ROLE

OPERATIONS = ["CreateMetricAttribution", "DescribeMetricAttribution", "ListMetricAttributions",
              "UpdateMetricAttribution", "DeleteMetricAttribution", "ListMetricAttributionMetrics"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in ("DescribeMetricAttribution", "DeleteMetricAttribution")},
    ("ListMetricAttributions", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    ("CreateMetricAttribution", "LimitExceededException"): "one metric attribution per dataset group is "
                                                           "ResourceAlreadyExistsException, and more than 10 metrics "
                                                           "break the model's list bound (ValidationException) first",
}
WATCHES = {"eventType": "watch", "expression": "SAMPLECOUNT()", "metricName": "watches"}


@pytest.fixture
def world(shared_world):
    return shared_world


def create(w, group=None, metrics=(WATCHES,), name=None):
    return w.p.create_metric_attribution(name=name or w.fresh("attribution"), metrics=list(metrics),
                                         datasetGroupArn=group or w.new_group(w.fresh("g")),
                                         metricsOutputConfig={"roleArn": ROLE,
                                                              "s3DataDestination": {"path": "s3://bucket/metrics/"}})


def new_attribution(w) -> str:
    """A new ACTIVE attribution of a new group (free to update or delete)."""
    return w.new_attribution(w.new_group(w.fresh("g")))


def pending_attribution(w) -> str:
    """An attribution still in CREATE PENDING (stepped pacing from here on)."""
    group = w.new_group(w.fresh("g"))
    clock.set_pacing("stepped")
    return create(w, group)["metricAttributionArn"]


def metrics(w, arn):
    return w.p.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]


def update(w, arn=None, **kw):
    return w.p.update_metric_attribution(metricAttributionArn=arn or new_attribution(w), **kw)


def delete_new(w) -> str:
    arn = new_attribution(w)
    w.p.delete_metric_attribution(metricAttributionArn=arn)
    return arn


CASES = [
    Case("CreateMetricAttribution", lambda w: create(w),
         check=lambda r, w: r["metricAttributionArn"].startswith(
             "arn:aws:personalize:us-east-1:123456789012:metric-attribution/attribution")),
    Case("CreateMetricAttribution", lambda w: (w.attribution, create(w, w.group)),
         raises="ResourceAlreadyExistsException", match="already has a metric attribution"),
    Case("CreateMetricAttribution", lambda w: create(w, w.missing("dataset-group")), raises="ResourceNotFoundException",
         match="The given dataset group does not exist"),
    Case("CreateMetricAttribution", lambda w: (clock.set_pacing("stepped"), create(
        w, w.p.create_dataset_group(name=w.fresh("pending"))["datasetGroupArn"])),
         raises="ResourceInUseException", match="CREATE PENDING"),
    Case("CreateMetricAttribution", lambda w: create(w, metrics=[dict(WATCHES, expression="AVG(Items.PRICE)")]),
         raises="InvalidInputException"),
    Case("CreateMetricAttribution", lambda w: create(w, metrics=[WATCHES, dict(WATCHES, eventType="click")]),
         raises="InvalidInputException", match="repeated: watches", name="repeated-name"),
    Case("DescribeMetricAttribution", lambda w: w.p.describe_metric_attribution(metricAttributionArn=w.attribution),
         check=lambda r, w: r["metricAttribution"]["status"] == "ACTIVE"
         and r["metricAttribution"]["datasetGroupArn"] == w.group
         and r["metricAttribution"]["metricsOutputConfig"] == {"roleArn": ROLE}),
    Case("DescribeMetricAttribution", lambda w: w.p.describe_metric_attribution(
        metricAttributionArn=w.missing("metric-attribution")), raises="ResourceNotFoundException",
         match="does not exist"),
    Case("ListMetricAttributions", lambda w: (w.attribution, w.p.list_metric_attributions(datasetGroupArn=w.group)),
         check=lambda r, w: [a["metricAttributionArn"] for a in r[1]["metricAttributions"]] == [w.attribution]),
    Case("ListMetricAttributions", lambda w: w.p.list_metric_attributions(nextToken="forged"),
         raises="InvalidNextTokenException"),
    Case("ListMetricAttributionMetrics", lambda w: w.p.list_metric_attribution_metrics(
        metricAttributionArn=w.attribution), check=lambda r, w: r["metrics"] == [WATCHES]),
    Case("ListMetricAttributionMetrics", lambda w: w.p.list_metric_attribution_metrics(
        metricAttributionArn=w.attribution, nextToken="forged"), raises="InvalidNextTokenException"),
    Case("ListMetricAttributionMetrics", lambda w: w.p.list_metric_attribution_metrics(),
         raises="InvalidInputException", match="metricAttributionArn is required"),
    Case("ListMetricAttributionMetrics", lambda w: w.p.list_metric_attribution_metrics(
        metricAttributionArn=w.missing("metric-attribution")), raises="InvalidInputException",
         match="does not exist", name="unknown"),
    Case("UpdateMetricAttribution", lambda w: update(w, addMetrics=[dict(WATCHES, metricName="views")],
                                                     removeMetrics=["watches"]),
         check=lambda r, w: metrics(w, r["metricAttributionArn"]) == [dict(WATCHES, metricName="views")]),
    Case("UpdateMetricAttribution", lambda w: update(w, w.missing("metric-attribution"), removeMetrics=["watches"]),
         raises="ResourceNotFoundException", match="does not exist"),
    Case("UpdateMetricAttribution", lambda w: update(w, addMetrics=[WATCHES]), raises="ResourceAlreadyExistsException",
         match="already has a metric named watches"),
    Case("UpdateMetricAttribution", lambda w: update(w, pending_attribution(w), removeMetrics=["watches"]),
         raises="ResourceInUseException", match="CREATE PENDING"),
    Case("UpdateMetricAttribution", lambda w: update(w, removeMetrics=["nope"]), raises="InvalidInputException",
         match="no metric named nope"),
    Case("DeleteMetricAttribution", delete_new, check=lambda arn, w: arn not in [
        a["metricAttributionArn"] for a in w.p.list_metric_attributions()["metricAttributions"]]),
    Case("DeleteMetricAttribution", lambda w: w.p.delete_metric_attribution(
        metricAttributionArn=w.missing("metric-attribution")), raises="ResourceNotFoundException"),
    Case("DeleteMetricAttribution", lambda w: w.p.delete_metric_attribution(
        metricAttributionArn=pending_attribution(w)), raises="ResourceInUseException", match="CREATE PENDING"),
]

test_conformance = cases_test(CASES)
