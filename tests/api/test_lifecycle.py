"""Round trips through boto3 of the resources the tutorials touch: failures, refusals and lifecycles."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from ..helpers import movielens_ratings, wait_for

SCHEMA = json.dumps({"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                     "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                {"name": "TIMESTAMP", "type": "long"}], "version": "1.0"})


@pytest.fixture
def personalize(personalize_mock):
    boto3.client("s3").create_bucket(Bucket="bucket")
    return boto3.client("personalize")


def make_dataset(personalize, name="g"):
    schema = personalize.create_schema(name=f"{name}-schema", schema=SCHEMA)["schemaArn"]
    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    dataset = personalize.create_dataset(name=f"{name}-ds", schemaArn=schema, datasetGroupArn=group,
                                         datasetType="Interactions")["datasetArn"]
    return group, dataset


def import_csv(personalize, dataset, body: bytes, key="data.csv", job="job"):
    boto3.client("s3").put_object(Bucket="bucket", Key=key, Body=body)
    arn = personalize.create_dataset_import_job(jobName=job, datasetArn=dataset,
                                                dataSource={"dataLocation": f"s3://bucket/{key}"},
                                                roleArn="arn:aws:iam::123456789012:role/r")["datasetImportJobArn"]
    return wait_for(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=arn), "datasetImportJob")


def test_import_with_a_missing_required_column_fails_with_a_clear_reason(personalize):
    _, dataset = make_dataset(personalize)
    rows = "".join(f"u{i % 50},i{i % 70}\n" for i in range(1200))
    job = import_csv(personalize, dataset, b"USER_ID,ITEM_ID\n" + rows.encode())
    assert job["status"] == "CREATE FAILED"
    assert "TIMESTAMP" in job["failureReason"]


def test_a_failed_import_leaves_the_data_as_it_was(personalize):
    group, dataset = make_dataset(personalize)
    assert import_csv(personalize, dataset, movielens_ratings(), job="good")["status"] == "ACTIVE"
    bad = b"USER_ID,ITEM_ID,TIMESTAMP\n" + b"".join(b"u,i,%d\n" % i for i in range(1500)) + b"u,i,not-a-number\n"
    failed = import_csv(personalize, dataset, bad, key="bad.csv", job="bad")
    assert failed["status"] == "CREATE FAILED" and "TIMESTAMP" in failed["failureReason"]
    assert "1502" in failed["failureReason"]  # the line of the first offending row
    # training still sees exactly the MovieLens data: 610 users' histories are intact
    solution = personalize.create_solution(name="s", datasetGroupArn=group,
                                           recipeArn="arn:aws:personalize:::recipe/aws-popularity-count")
    version = personalize.create_solution_version(solutionArn=solution["solutionArn"])["solutionVersionArn"]
    assert wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version),
                    "solutionVersion")["status"] == "ACTIVE"


def test_import_from_a_missing_object_is_refused_at_create_time(personalize):
    _, dataset = make_dataset(personalize)
    with pytest.raises(ClientError) as err:
        personalize.create_dataset_import_job(jobName="j", datasetArn=dataset, roleArn="arn:aws:iam::123456789012:role/r",
                                              dataSource={"dataLocation": "s3://bucket/nothing.csv"})
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_too_few_interactions_fail_training_with_the_numbers(personalize):
    group, dataset = make_dataset(personalize)
    rows = "".join(f"u{i % 20},i{i % 30},{1600000000 + i}\n" for i in range(1100))
    assert import_csv(personalize, dataset, b"USER_ID,ITEM_ID,TIMESTAMP\n" + rows.encode())["status"] == "ACTIVE"
    solution = personalize.create_solution(name="s", datasetGroupArn=group,
                                           recipeArn="arn:aws:personalize:::recipe/aws-user-personalization")
    version = personalize.create_solution_version(solutionArn=solution["solutionArn"])["solutionVersionArn"]
    found = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
    assert found["status"] == "CREATE FAILED"
    assert "25" in found["failureReason"] and "20" in found["failureReason"]


def test_names_are_unique_and_arns_follow_the_service(personalize):
    group, dataset = make_dataset(personalize)
    assert group == "arn:aws:personalize:us-east-1:123456789012:dataset-group/g"
    assert dataset == "arn:aws:personalize:us-east-1:123456789012:dataset/g/INTERACTIONS"
    with pytest.raises(ClientError) as err:
        personalize.create_dataset_group(name="g")
    assert err.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    assert err.value.response["Error"]["Message"] == f"Another resource with Arn {group} already exists."


def test_unknown_arns_and_wrong_kinds_are_not_found(personalize):
    group, _ = make_dataset(personalize)
    with pytest.raises(ClientError) as err:
        personalize.describe_solution(solutionArn=group.replace("dataset-group", "solution"))
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"].startswith("The given solution does not exist: ")
    with pytest.raises(ClientError) as err:  # a dataset group ARN where a solution version is needed
        personalize.create_campaign(name="c", solutionVersionArn=group)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_dependencies_refuse_deletion(personalize):
    group, dataset = make_dataset(personalize)
    with pytest.raises(ClientError) as err:
        personalize.delete_dataset_group(datasetGroupArn=group)
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    with pytest.raises(ClientError) as err:
        personalize.delete_schema(schemaArn=personalize.describe_dataset(datasetArn=dataset)["dataset"]["schemaArn"])
    assert err.value.response["Error"]["Code"] == "ResourceInUseException"
    personalize.delete_dataset(datasetArn=dataset)
    personalize.delete_dataset_group(datasetGroupArn=group)
    assert personalize.list_dataset_groups()["datasetGroups"] == []


def test_domain_group_refuses_actions_and_custom_groups_refuse_recommenders(personalize):
    group = personalize.create_dataset_group(name="vod", domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    with pytest.raises(ClientError) as err:
        personalize.create_recommender(name="r", datasetGroupArn=group.replace("vod", "nope"),
                                       recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    custom, _ = make_dataset(personalize, "custom")
    with pytest.raises(ClientError) as err:
        personalize.create_recommender(name="r", datasetGroupArn=custom,
                                       recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks")
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_list_pagination_with_boto3_paginators(personalize):
    for i in range(5):  # the quota of active dataset groups per region
        personalize.create_dataset_group(name=f"g{i}")
    pages = list(personalize.get_paginator("list_dataset_groups").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["datasetGroups"]) for p in pages] == [2, 2, 1]
    names = [g["name"] for p in pages for g in p["datasetGroups"]]
    assert sorted(names) == [f"g{i}" for i in range(5)]
    assert set(pages[0]["datasetGroups"][0]) == {"name", "datasetGroupArn", "status", "creationDateTime",
                                                "lastUpdatedDateTime"}  # the DatasetGroupSummary shape
    with pytest.raises(ClientError) as err:
        personalize.list_dataset_groups(nextToken="forged")
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_regions_and_accounts_are_isolated(personalize, monkeypatch):
    personalize.create_dataset_group(name="here")
    assert boto3.client("personalize", region_name="eu-west-1").list_dataset_groups()["datasetGroups"] == []
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111122223333")
    assert boto3.client("personalize").list_dataset_groups()["datasetGroups"] == []


def test_anonymous_events_are_not_trained_on_until_their_session_is_linked(personalize):
    """Spec 40 §5: a sessionId-only event is kept (and served to that session) but never trained on while
    the session is unlinked; once an event carries both IDs, the session's events count for the user."""
    group, dataset = make_dataset(personalize)
    assert import_csv(personalize, dataset, movielens_ratings(), job="ratings")["status"] == "ACTIVE"
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=group)
    wait_for(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    events = boto3.client("personalize-events")
    events.put_events(trackingId=tracker["trackingId"], sessionId="anon-1",
                      eventList=[{"eventType": "click", "itemId": "1", "sentAt": 1_700_000_000}])
    for recipe in ("aws-user-personalization-v2", "aws-popularity-count"):
        solution = personalize.create_solution(name=recipe, datasetGroupArn=group, performAutoTraining=False,
                                               recipeArn=f"arn:aws:personalize:::recipe/{recipe}")["solutionArn"]
        version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        found = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version),
                         "solutionVersion")
        assert found["status"] == "ACTIVE", found.get("failureReason")
    # linking the session to a user makes its anonymous events that user's: training still works
    events.put_events(trackingId=tracker["trackingId"], sessionId="anon-1", userId="1",
                      eventList=[{"eventType": "click", "itemId": "2", "sentAt": 1_700_000_100}])
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    assert wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version),
                    "solutionVersion")["status"] == "ACTIVE"


def test_a_schema_nested_too_deeply_is_invalid_input_not_an_internal_error(personalize):
    doc = ('{"type": "record", "name": "Users", "fields": [{"name": "USER_ID", "type": "string"}, '
           '{"name": "A", "type": "int", "doc": ' + "[" * 1000 + "]" * 1000 + "}]}")
    with pytest.raises(ClientError) as err:
        personalize.create_schema(name="deep", schema=doc)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert err.value.response["Error"]["Message"] == "Schema nests JSON values too deeply"
