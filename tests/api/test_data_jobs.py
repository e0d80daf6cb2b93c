"""Dataset export jobs, data deletion jobs, UpdateDataset and import locations through real boto3 clients
(spec 40 §9-§11, spec 10 §6, guide L8705)."""

from __future__ import annotations

import time

import boto3
import pytest

from localpersonalize.control import clock

from ..helpers import wait_for
from .test_events import INTERACTIONS, ROLE, error, make_group, schema_json

USERS = schema_json("Users", [{"name": "USER_ID", "type": "string"},
                              {"name": "MEMBERSHIP_STATUS", "type": "string", "categorical": True}])
HEADER = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n"


def rows(n, users=30, start=0):
    return "".join(f"u{i % users},i{i % 40},{1_600_000_000 + start + i},click\n" for i in range(n))


@pytest.fixture
def world(personalize_mock):
    p = boto3.client("personalize")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bucket")
    group, ids = make_group(p, (("Interactions", INTERACTIONS), ("Users", USERS)))
    return {"p": p, "s3": s3, "group": group, **ids}


def import_job(world, dataset, location, name="job", mode="FULL"):
    p = world["p"]
    arn = p.create_dataset_import_job(jobName=name, datasetArn=dataset, roleArn=ROLE, importMode=mode,
                                      dataSource={"dataLocation": location})["datasetImportJobArn"]
    return wait_for(lambda: p.describe_dataset_import_job(datasetImportJobArn=arn), "datasetImportJob")


def wait_deletion(p, arn):
    for _ in range(2000):
        job = p.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"]
        if job["status"] in ("COMPLETED", "FAILED"):
            return job
        time.sleep(0.01)
    raise AssertionError(job)


def test_import_from_a_folder_reads_its_first_level_csv_files(world):
    s3 = world["s3"]
    s3.put_object(Bucket="bucket", Key="in/a.csv", Body=(HEADER + rows(600)).encode())
    s3.put_object(Bucket="bucket", Key="in/b.csv", Body=(HEADER + rows(600, start=10_000)).encode())
    s3.put_object(Bucket="bucket", Key="in/sub/c.csv", Body=b"not,a,csv\n")  # sub-folders are not read
    s3.put_object(Bucket="bucket", Key="in/notes.txt", Body=b"ignored")
    assert import_job(world, world["Interactions"], "s3://bucket/in/")["status"] == "ACTIVE"
    export = export_job(world, world["Interactions"], "BULK")
    assert export["status"] == "ACTIVE"
    body = world["s3"].get_object(Bucket="bucket", Key="out/exp-BULK/INTERACTIONS_part_00000.csv")["Body"].read()
    assert len(body.decode().splitlines()) == 1201


def test_a_folder_import_failure_names_the_file_and_its_line(world):
    s3 = world["s3"]
    s3.put_object(Bucket="bucket", Key="bad/a.csv", Body=(HEADER + rows(600)).encode())
    s3.put_object(Bucket="bucket", Key="bad/b.csv", Body=(HEADER + rows(1) + "u9,i9,oops,click\n" + rows(600)).encode())
    job = import_job(world, world["Interactions"], "s3://bucket/bad/")
    assert job["status"] == "CREATE FAILED"
    assert job["failureReason"].startswith("s3://bucket/bad/b.csv: Column TIMESTAMP") and "line 3" in job["failureReason"]


def test_file_locations_are_refused_as_the_service_refuses_them(world, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(HEADER + rows(1000))
    code, message, _ = error(world["p"].create_dataset_import_job, jobName="f", datasetArn=world["Interactions"],
                             roleArn=ROLE, dataSource={"dataLocation": f"file://{data}"})
    assert code == "ValidationException" and "(s3|http|https)://.+" in message


def export_job(world, dataset, mode, path="s3://bucket/out/"):
    p = world["p"]
    arn = p.create_dataset_export_job(jobName=f"exp-{mode}", datasetArn=dataset, roleArn=ROLE, ingestionMode=mode,
                                      jobOutput={"s3DataDestination": {"path": path}})["datasetExportJobArn"]
    return wait_for(lambda: p.describe_dataset_export_job(datasetExportJobArn=arn), "datasetExportJob")


def test_export_modes_write_csv_with_the_schema_header(world):
    world["s3"].put_object(Bucket="bucket", Key="i.csv", Body=(HEADER + rows(1000)).encode())
    assert import_job(world, world["Interactions"], "s3://bucket/i.csv")["status"] == "ACTIVE"
    tracker = world["p"].create_event_tracker(name="t", datasetGroupArn=world["group"])
    wait_for(lambda: world["p"].describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"]), "eventTracker")
    boto3.client("personalize-events").put_events(trackingId=tracker["trackingId"], userId="u1", sessionId="s",
                                                  eventList=[{"sentAt": 5, "eventType": "watch", "itemId": "new"}])
    counts = {}
    for mode in ("BULK", "PUT", "ALL"):
        job = export_job(world, world["Interactions"], mode)
        assert job["status"] == "ACTIVE" and job["ingestionMode"] == mode
        body = world["s3"].get_object(Bucket="bucket", Key=f"out/exp-{mode}/INTERACTIONS_part_00000.csv")["Body"]
        lines = body.read().decode().splitlines()
        assert lines[0] == "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,IMPRESSION,RECOMMENDATION_ID,NUM_RATINGS"
        counts[mode] = len(lines) - 1
    assert counts == {"BULK": 1000, "PUT": 1, "ALL": 1001}
    listed = world["p"].list_dataset_export_jobs(datasetArn=world["Interactions"])["datasetExportJobs"]
    assert {j["jobName"] for j in listed} == {"exp-BULK", "exp-PUT", "exp-ALL"}


def test_export_default_mode_is_put_and_a_missing_bucket_fails_the_job(world):
    p = world["p"]
    arn = p.create_dataset_export_job(jobName="e", datasetArn=world["Users"], roleArn=ROLE,
                                      jobOutput={"s3DataDestination": {"path": "s3://no-such-bucket/out/"}})
    job = wait_for(lambda: p.describe_dataset_export_job(datasetExportJobArn=arn["datasetExportJobArn"]),
                   "datasetExportJob")
    assert job["ingestionMode"] == "PUT" and job["status"] == "CREATE FAILED"
    assert "no-such-bucket" in job["failureReason"]


def test_export_is_refused_for_action_datasets(personalize_mock):
    p = boto3.client("personalize")
    group = p.create_dataset_group(name="nba")["datasetGroupArn"]
    wait_for(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    schema = p.create_schema(name="a", schema=schema_json("Actions", [
        {"name": "ACTION_ID", "type": "string"}, {"name": "VALUE", "type": ["null", "long"]}]))["schemaArn"]
    ds = p.create_dataset(name="a", schemaArn=schema, datasetGroupArn=group, datasetType="Actions")["datasetArn"]
    wait_for(lambda: p.describe_dataset(datasetArn=ds), "dataset")
    code, message, _ = error(p.create_dataset_export_job, jobName="e", datasetArn=ds, roleArn=ROLE,
                             jobOutput={"s3DataDestination": {"path": "s3://b/out/"}})
    assert code == "InvalidInputException" and "Actions" in message


def test_data_deletion_job_removes_the_users_and_counts_records(world):
    s3, p = world["s3"], world["p"]
    s3.put_object(Bucket="bucket", Key="i.csv", Body=(HEADER + rows(1000)).encode())
    import_job(world, world["Interactions"], "s3://bucket/i.csv")
    s3.put_object(Bucket="bucket", Key="u.csv", Body=b"USER_ID,MEMBERSHIP_STATUS\nu1,Gold\nu2,Silver\n")
    import_job(world, world["Users"], "s3://bucket/u.csv", name="users")
    # the guide's input file (spec 40 §11.1), in a folder with a sub-folder
    s3.put_object(Bucket="bucket", Key="del/users.csv", Body=b"USER_ID\nabc\n2a\nu1\n")
    s3.put_object(Bucket="bucket", Key="del/more/users.csv", Body=b"USER_ID\n5basc\nu2\n")
    arn = p.create_data_deletion_job(jobName="d", datasetGroupArn=world["group"], roleArn=ROLE,
                                     dataSource={"dataLocation": "s3://bucket/del/"})["dataDeletionJobArn"]
    job = wait_deletion(p, arn)
    assert job["status"] == "COMPLETED"
    per_user = 1000 // 30 + 1
    assert job["numDeleted"] == 2 * per_user + 2
    listed = p.list_data_deletion_jobs(datasetGroupArn=world["group"])["dataDeletionJobs"]
    assert [j["dataDeletionJobArn"] for j in listed] == [arn]


def test_data_deletion_job_with_a_bad_file_fails(world):
    world["s3"].put_object(Bucket="bucket", Key="bad.csv", Body=b"USERID\nabc\n")
    arn = world["p"].create_data_deletion_job(jobName="d", datasetGroupArn=world["group"], roleArn=ROLE,
                                              dataSource={"dataLocation": "s3://bucket/bad.csv"})
    job = wait_deletion(world["p"], arn["dataDeletionJobArn"])
    assert job["status"] == "FAILED" and "USER_ID" in job["failureReason"]


def test_a_folder_data_deletion_job_names_the_bad_file(world):
    world["s3"].put_object(Bucket="bucket", Key="del/a.csv", Body=b"USER_ID\nu1\n")
    world["s3"].put_object(Bucket="bucket", Key="del/b.csv", Body=b"user\nu2\n")
    arn = world["p"].create_data_deletion_job(jobName="d", datasetGroupArn=world["group"], roleArn=ROLE,
                                              dataSource={"dataLocation": "s3://bucket/del/"})
    job = wait_deletion(world["p"], arn["dataDeletionJobArn"])
    assert job["status"] == "FAILED" and job["failureReason"].startswith(
        "Invalid input file: s3://bucket/del/b.csv: Header: column 'user' is not a field of the schema")


def test_data_deletion_job_refuses_a_missing_input(world):
    code, _, _ = error(world["p"].create_data_deletion_job, jobName="d", datasetGroupArn=world["group"],
                       roleArn=ROLE, dataSource={"dataLocation": "s3://bucket/nothing.csv"})
    assert code == "InvalidInputException"


def test_update_dataset_replaces_a_users_schema_and_keeps_the_data(world):
    p, s3 = world["p"], world["s3"]
    s3.put_object(Bucket="bucket", Key="u.csv", Body=b"USER_ID,MEMBERSHIP_STATUS\nu1,Gold\n")
    import_job(world, world["Users"], "s3://bucket/u.csv")
    new = p.create_schema(name="users-v2", schema=schema_json("Users", [
        {"name": "USER_ID", "type": "string"}, {"name": "MEMBERSHIP_STATUS", "type": "string", "categorical": True},
        {"name": "AGE", "type": ["null", "int"]}]))["schemaArn"]
    assert p.update_dataset(datasetArn=world["Users"], schemaArn=new)["datasetArn"] == world["Users"]
    found = wait_for(lambda: p.describe_dataset(datasetArn=world["Users"]), "dataset")
    assert found["schemaArn"] == new and found["latestDatasetUpdate"]["status"] == "ACTIVE"
    s3.put_object(Bucket="bucket", Key="u2.csv", Body=b"USER_ID,MEMBERSHIP_STATUS,AGE\nu2,Silver,40\n")
    assert import_job(world, world["Users"], "s3://bucket/u2.csv", name="v2", mode="INCREMENTAL")["status"] == "ACTIVE"


@pytest.mark.parametrize("fields, words", [
    ([{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": ["null", "int"]}], "keep every field"),
    ([{"name": "USER_ID", "type": "string"},
      {"name": "MEMBERSHIP_STATUS", "type": ["null", "string"], "categorical": True}], "data type and attributes"),
    ([{"name": "USER_ID", "type": "string"}, {"name": "MEMBERSHIP_STATUS", "type": "string", "categorical": True},
      {"name": "AGE", "type": "int"}], "must be nullable"),
])
def test_update_dataset_refuses_a_bad_replacement(world, fields, words):
    p = world["p"]
    new = p.create_schema(name="v2", schema=schema_json("Users", fields))["schemaArn"]
    code, message, _ = error(p.update_dataset, datasetArn=world["Users"], schemaArn=new)
    assert code == "InvalidInputException" and words in message


def test_update_dataset_only_for_users_and_items(world):
    p = world["p"]
    other = p.create_schema(name="i2", schema=INTERACTIONS.replace('"version"', '"doc": "x", "version"'))["schemaArn"]
    code, message, _ = error(p.update_dataset, datasetArn=world["Interactions"], schemaArn=other)
    assert code == "InvalidInputException" and "Users or Items" in message


def test_an_import_job_is_refused_while_the_dataset_is_being_updated(world):
    p, s3 = world["p"], world["s3"]
    new = p.create_schema(name="users-v4", schema=schema_json("Users", [
        {"name": "USER_ID", "type": "string"}, {"name": "MEMBERSHIP_STATUS", "type": "string", "categorical": True},
        {"name": "CITY", "type": ["null", "string"]}]))["schemaArn"]
    s3.put_object(Bucket="bucket", Key="u.csv", Body=b"USER_ID,MEMBERSHIP_STATUS\nu1,Gold\n")
    clock.set_pacing("stepped")
    p.update_dataset(datasetArn=world["Users"], schemaArn=new)
    code, message, _ = error(p.create_dataset_import_job, jobName="during", datasetArn=world["Users"], roleArn=ROLE,
                             dataSource={"dataLocation": "s3://bucket/u.csv"})
    assert code == "ResourceInUseException" and "import once its update is ACTIVE" in message


def test_a_schema_cannot_be_deleted_while_a_dataset_is_being_updated_to_it(world):
    p = world["p"]
    new = p.create_schema(name="users-v3", schema=schema_json("Users", [
        {"name": "USER_ID", "type": "string"}, {"name": "MEMBERSHIP_STATUS", "type": "string", "categorical": True},
        {"name": "CITY", "type": ["null", "string"]}]))["schemaArn"]
    clock.set_pacing("stepped")
    p.update_dataset(datasetArn=world["Users"], schemaArn=new)
    code, message, _ = error(p.delete_schema, schemaArn=new)
    assert code == "ResourceInUseException" and "update of dataset" in message
    found = wait_for(lambda: p.describe_dataset(datasetArn=world["Users"]), "dataset")
    while found["latestDatasetUpdate"]["status"] != "ACTIVE":
        found = p.describe_dataset(datasetArn=world["Users"])["dataset"]
    assert found["schemaArn"] == new and p.describe_schema(schemaArn=new)["schema"]["name"] == "users-v3"
