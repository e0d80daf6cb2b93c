"""Create everything, then delete it in dependency order the way a cleanup script does (list, delete,
poll until gone, catch ResourceInUseException and retry later), ending with an empty account; plus every
boto3 paginator of these families and isolation by account and region.

Other families extend :data:`CLEANUP` with their kinds (list call, ARN key, delete call), in dependency
order (children first), and :data:`PAGINATED` with their paginators."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.exceptions import ClientError

from localpersonalize.control import clock

from .world import REGION, ROLE

#: (List operation (python name), result key, ARN key, delete operation, its ARN parameter), children first.
CLEANUP = [
    ("list_campaigns", "campaigns", "campaignArn", "delete_campaign", "campaignArn"),
    ("list_recommenders", "recommenders", "recommenderArn", "delete_recommender", "recommenderArn"),
    ("list_event_trackers", "eventTrackers", "eventTrackerArn", "delete_event_tracker", "eventTrackerArn"),
    ("list_filters", "Filters", "filterArn", "delete_filter", "filterArn"),
    ("list_metric_attributions", "metricAttributions", "metricAttributionArn", "delete_metric_attribution",
     "metricAttributionArn"),
    ("list_solutions", "solutions", "solutionArn", "delete_solution", "solutionArn"),
    ("list_datasets", "datasets", "datasetArn", "delete_dataset", "datasetArn"),
    ("list_dataset_groups", "datasetGroups", "datasetGroupArn", "delete_dataset_group", "datasetGroupArn"),
    ("list_schemas", "schemas", "schemaArn", "delete_schema", "schemaArn"),
]

#: (paginator name, result key, how to create one more item: fn(world, i)), for the paginator test.
PAGINATED = [
    ("list_dataset_groups", "datasetGroups", lambda w, i: w.p.create_dataset_group(name=f"pg{i}")),
    ("list_schemas", "schemas", lambda w, i: w.p.create_schema(name=f"ps{i}", schema=w.p.describe_schema(
        schemaArn=w.schema)["schema"]["schema"])),
    ("list_datasets", "datasets", None),
    ("list_dataset_import_jobs", "datasetImportJobs", lambda w, i: w.new_import(w.dataset, f"pj{i}")),
    ("list_solutions", "solutions", lambda w, i: w.new_solution(f"psol{i}")),
    ("list_solution_versions", "solutionVersions", lambda w, i: (w.import_job, w.new_version(w.solution))),
    ("list_campaigns", "campaigns", lambda w, i: w.new_campaign(f"pc{i}", w.version)),
    ("list_recommenders", "recommenders", lambda w, i: w.new_recommender(f"pr{i}", wait=False)),
    ("list_recipes", "recipes", None),
    ("list_event_trackers", "eventTrackers", lambda w, i: w.new_tracker(w.new_group(f"pe{i}"))),
    ("list_filters", "Filters", lambda w, i: w.new_filter(f"pf{i}")),
    ("list_metric_attributions", "metricAttributions", lambda w, i: w.new_attribution(w.new_group(f"pm{i}"))),
    ("list_metric_attribution_metrics", "metrics", None),
    ("list_dataset_export_jobs", "datasetExportJobs", lambda w, i: w.p.create_dataset_export_job(
        jobName=f"px{i}", datasetArn=w.dataset, roleArn=ROLE, jobOutput={"s3DataDestination": {"path": "s3://b/x/"}})),
    ("list_batch_inference_jobs", "batchInferenceJobs", lambda w, i: w.p.create_batch_inference_job(
        jobName=f"pb{i}", solutionVersionArn=w.version, roleArn=ROLE, **_batch_paths(w, "users.json", "u1"))),
    ("list_batch_segment_jobs", "batchSegmentJobs", lambda w, i: w.p.create_batch_segment_job(
        jobName=f"ps{i}", solutionVersionArn=w.affinity_version, roleArn=ROLE, **_batch_paths(w, "items.json", "i1"))),
]


def _batch_paths(w, name: str, line_id: str) -> dict:
    """jobInput/jobOutput of a batch job reading one line (a userId or an itemId)."""
    key = "userId" if name == "users.json" else "itemId"
    path = w.upload(f"in/{name}", f'{{"{key}": "{line_id}"}}\n'.encode())
    return {"jobInput": {"s3DataSource": {"path": path}}, "jobOutput": {"s3DataDestination": {"path": "s3://bucket/out/"}}}



#: Jobs cannot be deleted: they go with their parents. (List operation, result key) of each.
JOBS = [("list_dataset_import_jobs", "datasetImportJobs"), ("list_dataset_export_jobs", "datasetExportJobs"),
        ("list_data_deletion_jobs", "dataDeletionJobs"), ("list_solution_versions", "solutionVersions"),
        ("list_batch_inference_jobs", "batchInferenceJobs"), ("list_batch_segment_jobs", "batchSegmentJobs")]


def everything(w):
    """One of each resource (custom chain with a $LATEST campaign, domain chain, an event tracker, a filter,
    a metric attribution) and of each job (export, data deletion, batch inference, batch segment)."""
    w.campaign
    w.new_campaign("latest", w.solution + "/$LATEST", campaignConfig={"syncWithLatestSolutionVersion": True})
    w.recommender
    w.tracker, w.filter, w.attribution
    out = {"s3DataDestination": {"path": "s3://bucket/out/"}}
    p = w.p
    jobs = [("describe_dataset_export_job", "datasetExportJobArn", "datasetExportJob", p.create_dataset_export_job(
                jobName="export", datasetArn=w.dataset, roleArn=ROLE, jobOutput=out)),
            ("describe_data_deletion_job", "dataDeletionJobArn", "dataDeletionJob", p.create_data_deletion_job(
                jobName="deletion", datasetGroupArn=w.group, roleArn=ROLE,
                dataSource={"dataLocation": w.upload("delete.csv", b"USER_ID\nghost\n")})),
            ("describe_batch_inference_job", "batchInferenceJobArn", "batchInferenceJob", p.create_batch_inference_job(
                jobName="inference", solutionVersionArn=w.version, roleArn=ROLE, jobOutput=out,
                jobInput={"s3DataSource": {"path": w.upload("in/users.json", b'{"userId": "u1"}\n')}})),
            ("describe_batch_segment_job", "batchSegmentJobArn", "batchSegmentJob", p.create_batch_segment_job(
                jobName="segment", solutionVersionArn=w.affinity_version,
                roleArn=ROLE, jobOutput=out,
                jobInput={"s3DataSource": {"path": w.upload("in/items.json", b'{"itemId": "i1"}\n')}}))]
    for describe, key, record, answer in jobs:  # a cleanup script waits for running jobs first
        deadline = time.time() + 30
        while getattr(p, describe)(**{key: answer[key]})[record]["status"] not in ("ACTIVE", "COMPLETED"):
            assert time.time() < deadline, f"{answer[key]} did not finish"
            time.sleep(0.01)


def cleanup(p, timeout=30.0) -> int:
    """Delete every resource in dependency order, status-driven; returns the number of delete calls."""
    calls = 0
    deadline = time.time() + timeout
    for list_op, key, arn_key, delete_op, param in CLEANUP:
        while time.time() < deadline:
            items = [i for page in p.get_paginator(list_op).paginate() for i in page[key]]
            if not items:
                break
            for item in items:
                if str(item.get("status", "")).startswith("DELETE"):
                    continue
                try:
                    getattr(p, delete_op)(**{param: item[arn_key]})
                    calls += 1
                except ClientError as exc:
                    if exc.response["Error"]["Code"] not in ("ResourceInUseException", "ResourceNotFoundException"):
                        raise
            time.sleep(0.01)
        else:
            raise AssertionError(f"{list_op} never emptied")
    return calls


@pytest.mark.parametrize("pacing", ["immediate", "stepped"])
def test_create_everything_then_delete_in_dependency_order_leaves_an_empty_account(world, pacing):
    everything(world)
    clock.set_pacing(pacing)
    p = world.p
    with pytest.raises(ClientError) as err:  # a cleanup in the wrong order is refused
        p.delete_dataset_group(datasetGroupArn=world.group)
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    if pacing == "stepped":  # stepped resources move when described: a poller describes them
        _describe_while_deleting(world)
    assert cleanup(p) >= 10
    for list_op, key, *_ in CLEANUP + JOBS:
        assert getattr(p, list_op)()[key] == [], list_op


def _describe_while_deleting(world):
    """A thread that describes everything that is being deleted, as a cleanup script's poller does."""
    import threading

    p = boto3.client("personalize", region_name=REGION)
    describe = {"campaign": ("describe_campaign", "campaignArn"), "recommender": ("describe_recommender", "recommenderArn"),
                "solution": ("describe_solution", "solutionArn"), "dataset": ("describe_dataset", "datasetArn"),
                "dataset-group": ("describe_dataset_group", "datasetGroupArn"),
                "eventTracker": ("describe_event_tracker", "eventTrackerArn"), "filter": ("describe_filter", "filterArn"),
                "metricAttribution": ("describe_metric_attribution", "metricAttributionArn")}
    stop = time.time() + 20

    def poll():
        while time.time() < stop:
            for list_op, key, arn_key, *_ in CLEANUP[:-1]:
                for item in getattr(p, list_op)()[key]:
                    kind = arn_key[:-3].replace("datasetGroup", "dataset-group")
                    op, param = describe[kind]
                    try:
                        getattr(p, op)(**{param: item[arn_key]})
                    except ClientError:
                        pass
            if not p.list_dataset_groups()["datasetGroups"]:
                return
            time.sleep(0.01)

    threading.Thread(target=poll, daemon=True).start()


@pytest.mark.parametrize("paginator,key,make", PAGINATED, ids=[p[0] for p in PAGINATED])
def test_boto3_paginators_page_through_every_item_once(world, paginator, key, make):
    w = world
    clock.set_quota("active_dataset_groups", 10)
    kwargs = {}
    if make is not None:
        for i in range(3):
            make(w, i)
    if paginator == "list_datasets":
        w.dataset, w.domain_dataset
    if paginator == "list_solution_versions":
        kwargs = {"solutionArn": w.solution}
    if paginator == "list_metric_attribution_metrics":
        kwargs = {"metricAttributionArn": w.new_attribution(w.group, metrics=[
            {"eventType": "watch", "expression": "SAMPLECOUNT()", "metricName": f"m{i}"} for i in range(3)])}
    full = [_arn(i) for i in getattr(w.p, paginator)(**kwargs)[key]]
    pages = list(w.p.get_paginator(paginator).paginate(PaginationConfig={"PageSize": 1}, **kwargs))
    paged = [_arn(item) for page in pages for item in page[key]]
    assert len(full) >= 2 and paged == full  # same items, same stable order, none twice
    assert all("nextToken" in page for page in pages[:-1]) and "nextToken" not in pages[-1]


def _arn(summary: dict) -> str:
    """The ARN of a List summary (its first ``...Arn`` member), or the name of a metric."""
    return next((v for k, v in summary.items() if k.endswith("Arn")), summary.get("metricName"))


def test_a_page_token_survives_creations_between_pages(world):
    p = world.p
    clock.set_quota("active_dataset_groups", 10)
    for i in range(4):
        p.create_dataset_group(name=f"g{i}")
    first = p.list_dataset_groups(maxResults=2)
    p.create_dataset_group(name="newer")  # lists newest first: it would shift an offset-based token
    second = p.list_dataset_groups(maxResults=2, nextToken=first["nextToken"])
    names = [g["name"] for g in first["datasetGroups"] + second["datasetGroups"]]
    assert names == ["g3", "g2", "g1", "g0"]


def test_a_token_of_another_listing_is_invalid(world):
    p = world.p
    w = world
    w.new_solution("a"), w.new_solution("b")
    token = p.list_solutions(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as err:
        p.list_solutions(maxResults=1, nextToken=token, datasetGroupArn=w.group)
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"


ISOLATED = [
    ("dataset-group", lambda w: w.group, "describe_dataset_group", "datasetGroupArn", "list_dataset_groups", "datasetGroups"),
    ("schema", lambda w: w.schema, "describe_schema", "schemaArn", "list_schemas", "schemas"),
    ("dataset", lambda w: w.dataset, "describe_dataset", "datasetArn", "list_datasets", "datasets"),
    ("dataset-import-job", lambda w: w.import_job, "describe_dataset_import_job", "datasetImportJobArn",
     "list_dataset_import_jobs", "datasetImportJobs"),
    ("solution", lambda w: w.solution, "describe_solution", "solutionArn", "list_solutions", "solutions"),
    ("solution-version", lambda w: w.version, "describe_solution_version", "solutionVersionArn",
     "list_solution_versions", "solutionVersions"),
    ("campaign", lambda w: w.campaign, "describe_campaign", "campaignArn", "list_campaigns", "campaigns"),
    ("recommender", lambda w: w.recommender, "describe_recommender", "recommenderArn", "list_recommenders",
     "recommenders"),
]


@pytest.mark.parametrize("kind,make,describe,param,list_op,key", ISOLATED, ids=[i[0] for i in ISOLATED])
def test_resources_are_isolated_by_region_and_account(world, monkeypatch, kind, make, describe, param, list_op, key):
    arn = make(world)
    assert f":{REGION}:123456789012:" in arn
    other_region = boto3.client("personalize", region_name="eu-west-1")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    other_account = boto3.client("personalize", region_name=REGION)
    for client in (other_region, other_account):
        assert getattr(client, list_op)()[key] == []
        with pytest.raises(ClientError) as err:
            getattr(client, describe)(**{param: arn})
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as err:
            client.list_tags_for_resource(resourceArn=arn)
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
