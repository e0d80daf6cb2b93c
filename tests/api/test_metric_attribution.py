"""Metric attribution through boto3 (issue 7 §4; spec 50 §9; guide L17340-L18374): the resource's rules,
and reports in S3 that attribute streamed events and imported interactions to the campaign behind each
``recommendationId`` or to their ``eventAttributionSource``."""

from __future__ import annotations

import csv
import io

import boto3
import pytest

from ..helpers import client_error as _code, wait_for
from .batch_world import open_world
from .runtime_world import _import, _schema, interactions

ROLE = "arn:aws:iam::123456789012:role/r"
RECIPE = "arn:aws:personalize:::recipe/"
T0 = 1_700_000_100  # the start of a 15-minute window
WINDOW = T0 // 900 * 900


def build():
    personalize = boto3.client("personalize")
    boto3.client("s3").create_bucket(Bucket="bucket")
    arns = {"group": personalize.create_dataset_group(name="ma")["datasetGroupArn"]}
    items = personalize.create_dataset(
        name="ma-items", datasetGroupArn=arns["group"], datasetType="Items",
        schemaArn=_schema("Items", [{"name": "ITEM_ID", "type": "string"}, {"name": "PRICE", "type": "float"},
                                    {"name": "GENRE", "type": "string", "categorical": True}]))["datasetArn"]
    _import(personalize, items, "ma-items", "ITEM_ID,PRICE,GENRE", [(f"i{i}", 1.5 * i, "Comedy") for i in range(60)])
    arns["interactions"] = personalize.create_dataset(
        name="ma-interactions", datasetGroupArn=arns["group"], datasetType="Interactions",
        schemaArn=_schema("Interactions", [{"name": "USER_ID", "type": "string"},
                                           {"name": "ITEM_ID", "type": "string"},
                                           {"name": "TIMESTAMP", "type": "long"},
                                           {"name": "EVENT_TYPE", "type": "string"},
                                           {"name": "EVENT_VALUE", "type": ["null", "float"]}]))["datasetArn"]
    _import(personalize, arns["interactions"], "ma-interactions", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE",
            [r + ("",) for r in interactions()])
    for name, recipe in (("pop", "aws-popularity-count"), ("up", "aws-user-personalization")):
        solution = personalize.create_solution(name=f"ma-{name}", datasetGroupArn=arns["group"],
                                               recipeArn=RECIPE + recipe, performAutoTraining=False)["solutionArn"]
        version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
        arns[name] = personalize.create_campaign(name=f"ma-{name}", solutionVersionArn=version)["campaignArn"]
        wait_for(lambda: personalize.describe_campaign(campaignArn=arns[name]), "campaign")
    tracker = personalize.create_event_tracker(name="ma-tracker", datasetGroupArn=arns["group"])
    arns["tracking_id"] = tracker["trackingId"]
    wait_for(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    return arns


@pytest.fixture(scope="module")
def world():
    with open_world(build) as arns:
        yield arns


@pytest.fixture
def personalize(world):
    return boto3.client("personalize")


METRICS = [{"eventType": "click", "metricName": "CLICKS", "expression": "SAMPLECOUNT()"},
           {"eventType": "purchase", "metricName": "REVENUE", "expression": "SUM(Interactions.EVENT_VALUE)"},
           {"eventType": "purchase", "metricName": "LIST_PRICE", "expression": "SUM(Items.PRICE)"}]


@pytest.fixture
def attribution(personalize, world):
    arn = personalize.create_metric_attribution(
        name="ma", datasetGroupArn=world["group"], metrics=METRICS,
        metricsOutputConfig={"roleArn": ROLE, "s3DataDestination": {"path": "s3://bucket/metrics/"}},
    )["metricAttributionArn"]
    assert wait_for(lambda: personalize.describe_metric_attribution(metricAttributionArn=arn),
                    "metricAttribution")["status"] == "ACTIVE"
    yield arn
    personalize.delete_metric_attribution(metricAttributionArn=arn)
    s3 = boto3.client("s3")
    for obj in s3.list_objects_v2(Bucket="bucket", Prefix="metrics/").get("Contents", []):
        s3.delete_object(Bucket="bucket", Key=obj["Key"])


def _report(key):
    body = boto3.client("s3").get_object(Bucket="bucket", Key=key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def _reports(prefix):
    return sorted(o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="bucket", Prefix=prefix)
                  .get("Contents", []))


def _rid(world, campaign, user="u1"):
    return boto3.client("personalize-runtime").get_recommendations(campaignArn=world[campaign],
                                                                   userId=user)["recommendationId"]


def _send(world, *events, user="u1"):
    boto3.client("personalize-events").put_events(
        trackingId=world["tracking_id"], userId=user, sessionId=f"s-{user}",
        eventList=[dict(e, sentAt=e.get("sentAt", T0)) for e in events])


def _values(rows):
    return {(r["METRIC_NAME"], r["EVENT_ATTRIBUTION_SOURCE"]): float(r["VALUE"]) for r in rows}


# ---------------------------------------------------------------- the resource (spec 50 §9.2)

def test_create_describe_list_and_list_metrics(personalize, world, attribution):
    found = personalize.describe_metric_attribution(metricAttributionArn=attribution)["metricAttribution"]
    assert found["metricAttributionArn"].endswith(":metric-attribution/ma")
    assert found["datasetGroupArn"] == world["group"]
    assert found["metricsOutputConfig"]["s3DataDestination"]["path"] == "s3://bucket/metrics/"
    listed = personalize.list_metric_attributions(datasetGroupArn=world["group"])["metricAttributions"]
    assert [m["metricAttributionArn"] for m in listed] == [attribution]
    assert personalize.list_metric_attribution_metrics(metricAttributionArn=attribution)["metrics"] == METRICS
    page = personalize.list_metric_attribution_metrics(metricAttributionArn=attribution, maxResults=2)
    assert len(page["metrics"]) == 2 and page["nextToken"]


def test_one_metric_attribution_per_dataset_group(personalize, world, attribution):
    code, _ = _code(personalize.create_metric_attribution, name="ma2", datasetGroupArn=world["group"],
                    metrics=METRICS[:1], metricsOutputConfig={"roleArn": ROLE})
    assert code == "ResourceAlreadyExistsException"


@pytest.mark.parametrize("expression, words", [
    ("COUNT()", "invalid expression"),
    ("SUM(Users.AGE)", "invalid expression"),
    ("SUM(Items.GENRE)", "numeric"),
    ("SUM(Items.LENGTH)", "no column LENGTH"),
    ("SUM(Interactions.EVENT_TYPE)", "numeric"),
])
def test_expressions_are_sum_of_a_numeric_column_or_samplecount(personalize, world, expression, words):
    code, message = _code(personalize.create_metric_attribution, name="bad", datasetGroupArn=world["group"],
                          metrics=[{"eventType": "click", "metricName": "M", "expression": expression}],
                          metricsOutputConfig={"roleArn": ROLE})
    assert code == "InvalidInputException" and words in message


def test_metric_names_are_unique_and_at_most_10(personalize, world):
    code, message = _code(personalize.create_metric_attribution, name="bad", datasetGroupArn=world["group"],
                          metrics=[METRICS[0], METRICS[0]], metricsOutputConfig={"roleArn": ROLE})
    assert code == "InvalidInputException" and "CLICKS" in message
    code, _ = _code(personalize.create_metric_attribution, name="bad", datasetGroupArn=world["group"],
                    metrics=[dict(METRICS[0], metricName=f"M{k}") for k in range(11)],
                    metricsOutputConfig={"roleArn": ROLE})
    assert code == "ValidationException"  # the model's max of 10


def test_update_adds_and_removes_metrics(personalize, attribution):
    extra = {"eventType": "click", "metricName": "CLICK_VALUE", "expression": "SUM(Interactions.EVENT_VALUE)"}
    personalize.update_metric_attribution(metricAttributionArn=attribution, addMetrics=[extra],
                                          removeMetrics=["LIST_PRICE"])
    names = [m["metricName"] for m in personalize.list_metric_attribution_metrics(
        metricAttributionArn=attribution)["metrics"]]
    assert names == ["CLICKS", "REVENUE", "CLICK_VALUE"]
    code, _ = _code(personalize.update_metric_attribution, metricAttributionArn=attribution, addMetrics=[extra])
    assert code == "ResourceAlreadyExistsException"
    code, _ = _code(personalize.update_metric_attribution, metricAttributionArn=attribution, removeMetrics=["NOPE"])
    assert code == "InvalidInputException"


def test_delete_makes_it_unknown(personalize, world):
    arn = personalize.create_metric_attribution(name="gone", datasetGroupArn=world["group"], metrics=METRICS[:1],
                                                metricsOutputConfig={"roleArn": ROLE})["metricAttributionArn"]
    personalize.delete_metric_attribution(metricAttributionArn=arn)
    code, _ = _code(personalize.describe_metric_attribution, metricAttributionArn=arn)
    assert code == "ResourceNotFoundException"


# ---------------------------------------------------------------- reports (spec 50 §9.3-§9.5)

def test_streamed_events_are_summed_per_source_in_the_s3_report(world, attribution):
    rid_pop, rid_up = _rid(world, "pop"), _rid(world, "up")
    _send(world, *[{"eventType": "click", "itemId": "i1", "recommendationId": rid_pop}] * 3)
    _send(world, {"eventType": "click", "itemId": "i2", "recommendationId": rid_up},
          {"eventType": "click", "itemId": "i3"},
          {"eventType": "click", "itemId": "i4", "recommendationId": rid_up,
           "metricAttribution": {"eventAttributionSource": "newsletter"}},
          {"eventType": "purchase", "itemId": "i10", "eventValue": 20.0, "recommendationId": rid_up},
          {"eventType": "purchase", "itemId": "i4", "eventValue": 5.5, "recommendationId": rid_up})
    _send(world, {"eventType": "view", "itemId": "i5", "recommendationId": rid_pop})  # no metric for views
    rows = _report(f"metrics/AggregatedAttributionMetrics-PutEvents-{WINDOW}.csv")
    assert list(rows[0]) == ["METRIC_NAME", "EVENT_TYPE", "VALUE", "MATH_FUNCTION", "EVENT_ATTRIBUTION_SOURCE",
                             "TIMESTAMP"]
    assert _values(rows) == {
        ("CLICKS", world["pop"]): 3.0, ("CLICKS", world["up"]): 1.0, ("CLICKS", "SOURCE_NAME_UNDEFINED"): 1.0,
        ("CLICKS", "newsletter"): 1.0,  # the source wins over the recommendation ID (guide L17396)
        ("REVENUE", world["up"]): 25.5, ("LIST_PRICE", world["up"]): 15.0 + 6.0}
    assert {(r["METRIC_NAME"], r["MATH_FUNCTION"], r["EVENT_TYPE"]) for r in rows} == {
        ("CLICKS", "samplecount", "click"), ("REVENUE", "sum", "purchase"), ("LIST_PRICE", "sum", "purchase")}
    assert {int(r["TIMESTAMP"]) for r in rows} == {WINDOW}


def test_events_are_aggregated_per_15_minute_window(world, attribution):
    _send(world, {"eventType": "click", "itemId": "i1", "sentAt": WINDOW + 899},
          {"eventType": "click", "itemId": "i1", "sentAt": WINDOW + 900})
    assert _reports("metrics/") == [f"metrics/AggregatedAttributionMetrics-PutEvents-{WINDOW}.csv",
                                    f"metrics/AggregatedAttributionMetrics-PutEvents-{WINDOW + 900}.csv"]
    assert _values(_report(f"metrics/AggregatedAttributionMetrics-PutEvents-{WINDOW + 900}.csv")) == {
        ("CLICKS", "SOURCE_NAME_UNDEFINED"): 1.0}


def test_events_sent_before_the_attribution_exists_are_not_reported(personalize, world):
    _send(world, {"eventType": "click", "itemId": "i1", "sentAt": T0 + 5000})
    arn = personalize.create_metric_attribution(
        name="late", datasetGroupArn=world["group"], metrics=METRICS[:1],
        metricsOutputConfig={"roleArn": ROLE, "s3DataDestination": {"path": "s3://bucket/late/"}})["metricAttributionArn"]
    try:
        _send(world, {"eventType": "click", "itemId": "i2", "sentAt": T0 + 5000})
        rows = _report(f"late/AggregatedAttributionMetrics-PutEvents-{(T0 + 5000) // 900 * 900}.csv")
        assert _values(rows) == {("CLICKS", "SOURCE_NAME_UNDEFINED"): 1.0}
    finally:
        personalize.delete_metric_attribution(metricAttributionArn=arn)


def test_an_import_job_publishes_its_metrics_only_when_asked(personalize, world, attribution):
    header = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"
    rows = [("u7", "i2", T0 + k, "purchase", 2.0) for k in range(1000)]
    boto3.client("s3").put_object(Bucket="bucket", Key="more.csv",
                                  Body=(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows)).encode())
    for name, publish in (("quiet", False), ("loud", True)):
        job = personalize.create_dataset_import_job(
            jobName=f"ma-{name}", datasetArn=world["interactions"], dataSource={"dataLocation": "s3://bucket/more.csv"},
            roleArn=ROLE, importMode="INCREMENTAL", publishAttributionMetricsToS3=publish)["datasetImportJobArn"]
        assert wait_for(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
                        "datasetImportJob")["status"] == "ACTIVE"
    files = _reports("metrics/AggregatedAttributionMetrics-INCREMENTAL-")
    assert len(files) == 1
    # 1000 purchases of i2 (price 3.0) worth 2.0 each, one a second from T0: 900 in T0's window, 100 after
    assert {(r["METRIC_NAME"], int(r["TIMESTAMP"])): float(r["VALUE"]) for r in _report(files[0])} == {
        ("REVENUE", WINDOW): 1800.0, ("REVENUE", WINDOW + 900): 200.0,
        ("LIST_PRICE", WINDOW): 2700.0, ("LIST_PRICE", WINDOW + 900): 300.0}
    assert {r["EVENT_ATTRIBUTION_SOURCE"] for r in _report(files[0])} == {"SOURCE_NAME_UNDEFINED"}
