"""Conformance of dataset export jobs, data deletion jobs and UpdateDataset, by operation (one shared
world for the module)."""

from __future__ import annotations

import time

import pytest

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN, TAGS51, quota
from .world import ROLE, SCHEMAS, avro, once, settled

OPERATIONS = ["CreateDatasetExportJob", "DescribeDatasetExportJob", "ListDatasetExportJobs",
              "CreateDataDeletionJob", "DescribeDataDeletionJob", "ListDataDeletionJobs", "UpdateDataset"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in ("DescribeDatasetExportJob", "DescribeDataDeletionJob")},
    **{(op, "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN
       for op in ("ListDatasetExportJobs", "ListDataDeletionJobs")},
    ("CreateDatasetExportJob", "LimitExceededException"): "no quota counts dataset export jobs (spec 60 §1-§3 "
                                                          "list none)",
}
#: A Users schema that adds a nullable field to SCHEMAS["Users"] (a valid replacement).
USERS_V2 = avro("Users", [{"name": "USER_ID", "type": "string"},
                          {"name": "SEGMENT", "type": ["null", "string"], "categorical": True},
                          {"name": "AGE", "type": ["null", "int"]}])


@pytest.fixture
def world(shared_world):
    return shared_world


def output(w, folder="export"):
    w.upload("keep.txt", b"")  # the bucket exists
    return {"s3DataDestination": {"path": f"s3://bucket/{folder}/"}}


def export(w, dataset=None, name=None, **kw):
    kw.setdefault("jobOutput", output(w))
    return w.p.create_dataset_export_job(jobName=name or w.fresh("export"), datasetArn=dataset or w.import_job and w.dataset,
                                         roleArn=ROLE, ingestionMode="BULK", **kw)


@once
def export_job(w) -> str:
    """The module's export job of the shared dataset (ACTIVE)."""
    arn = export(w, name="export")["datasetExportJobArn"]
    assert settled(lambda: w.p.describe_dataset_export_job(datasetExportJobArn=arn),
                   "datasetExportJob")["status"] == "ACTIVE"
    return arn


def pending_dataset(w, dataset_type="Interactions") -> str:
    """A dataset still in CREATE PENDING, in a new ACTIVE group (stepped pacing from here on)."""
    group = w.new_group(w.fresh("g"))
    clock.set_pacing("stepped")
    if dataset_type == "Interactions":
        return w.p.create_dataset(name="d", schemaArn=w.schema, datasetGroupArn=group,
                                  datasetType="Interactions")["datasetArn"]
    return w.new_typed_dataset(group, dataset_type, wait=False)


def deletion_input(w) -> str:
    """A data deletion file of users the world does not have (so shared data stays as it is)."""
    return w.upload("delete/users.csv", b"USER_ID\nghost1\nghost2\n")


def delete_users(w, group=None, name=None, location=None, **kw):
    return w.p.create_data_deletion_job(jobName=name or w.fresh("deletion"), datasetGroupArn=group or w.group,
                                        dataSource={"dataLocation": location or deletion_input(w)}, roleArn=ROLE, **kw)


@once
def deletion_job(w) -> str:
    """The module's data deletion job of the shared group (COMPLETED)."""
    arn = delete_users(w, name="deletion")["dataDeletionJobArn"]
    job = completed(w, arn)
    assert job["status"] == "COMPLETED" and job["numDeleted"] == 0, job
    return arn


def completed(w, arn, timeout=30.0) -> dict:
    """Poll DescribeDataDeletionJob until COMPLETED or FAILED."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = w.p.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"]
        if job["status"] in ("COMPLETED", "FAILED"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"{arn} still {job['status']}")


def users_dataset(w) -> str:
    """A new ACTIVE Users dataset (in a new group) whose schema is SCHEMAS["Users"]."""
    return w.new_typed_dataset(w.new_group(w.fresh("g")), "Users")


def replace(w, dataset, schema=USERS_V2):
    return w.p.update_dataset(datasetArn=dataset, schemaArn=w.p.create_schema(name=w.fresh("users-v"), schema=schema)[
        "schemaArn"])


def updated(r, w):
    found = settled(lambda: w.p.describe_dataset(datasetArn=r["datasetArn"]), "dataset")
    assert found["latestDatasetUpdate"]["status"] == "ACTIVE"
    assert w.p.describe_schema(schemaArn=found["schemaArn"])["schema"]["schema"] == USERS_V2


def updating(w) -> str:
    """A Users dataset whose schema replacement is still UPDATE PENDING (stepped pacing from here on)."""
    dataset = users_dataset(w)
    clock.set_pacing("stepped")
    replace(w, dataset)
    return dataset


CASES = [
    # ----- dataset export jobs
    Case("CreateDatasetExportJob", lambda w: export(w),
         check=lambda r, w: settled(lambda: w.p.describe_dataset_export_job(
             datasetExportJobArn=r["datasetExportJobArn"]), "datasetExportJob")["status"] == "ACTIVE"),
    Case("CreateDatasetExportJob", lambda w: (export_job(w), export(w, name="export")),
         raises="ResourceAlreadyExistsException", match="Another resource with Arn"),
    Case("CreateDatasetExportJob", lambda w: export(w, w.missing("dataset")), raises="ResourceNotFoundException",
         match="The given dataset does not exist"),
    Case("CreateDatasetExportJob", lambda w: export(w, pending_dataset(w)), raises="ResourceInUseException",
         match="CREATE PENDING"),
    Case("CreateDatasetExportJob", lambda w: export(w, jobOutput={"s3DataDestination": {"path": "https://bucket/x/"}}),
         raises="InvalidInputException", match="Invalid S3 output path"),
    Case("CreateDatasetExportJob", lambda w: export(w, w.new_typed_dataset(w.new_group(w.fresh("g")), "Actions")),
         raises="InvalidInputException", match="not supported for Actions", name="actions"),
    Case("CreateDatasetExportJob", lambda w: export(w, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeDatasetExportJob", lambda w: w.p.describe_dataset_export_job(datasetExportJobArn=export_job(w)),
         check=lambda r, w: r["datasetExportJob"]["status"] == "ACTIVE"
         and r["datasetExportJob"]["ingestionMode"] == "BULK" and r["datasetExportJob"]["datasetArn"] == w.dataset),
    Case("DescribeDatasetExportJob", lambda w: w.p.describe_dataset_export_job(
        datasetExportJobArn=w.missing("dataset-export-job")), raises="ResourceNotFoundException",
         match="does not exist"),
    Case("ListDatasetExportJobs", lambda w: (export_job(w), w.p.list_dataset_export_jobs(datasetArn=w.dataset)),
         check=lambda r, w: export_job(w) in [j["datasetExportJobArn"] for j in r[1]["datasetExportJobs"]]),
    Case("ListDatasetExportJobs", lambda w: w.p.list_dataset_export_jobs(nextToken="forged"),
         raises="InvalidNextTokenException"),
    # ----- data deletion jobs
    Case("CreateDataDeletionJob", lambda w: delete_users(w),
         check=lambda r, w: completed(w, r["dataDeletionJobArn"])["status"] == "COMPLETED"),
    Case("CreateDataDeletionJob", lambda w: (deletion_job(w), delete_users(w, name="deletion")),
         raises="ResourceAlreadyExistsException"),
    Case("CreateDataDeletionJob", lambda w: delete_users(w, w.missing("dataset-group")),
         raises="ResourceNotFoundException", match="The given dataset group does not exist"),
    Case("CreateDataDeletionJob", lambda w: (lambda location: (clock.set_pacing("stepped"), delete_users(
        w, w.p.create_dataset_group(name=w.fresh("pending"))["datasetGroupArn"], location=location)))(
        deletion_input(w)), raises="ResourceInUseException", match="CREATE PENDING"),
    Case("CreateDataDeletionJob", lambda w: delete_users(w, location="s3://bucket/nothing.csv"),
         raises="InvalidInputException", match="Insufficient privileges"),
    Case("CreateDataDeletionJob", quota("pending_data_deletion_jobs_per_dataset_group", 1, lambda w: (
        w.group, deletion_input(w), clock.set_pacing("stepped"), delete_users(w), delete_users(w))),
         raises="LimitExceededException", match="More than 1 resources with PENDING or IN_PROGRESS status."),
    Case("CreateDataDeletionJob", lambda w: delete_users(w, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeDataDeletionJob", lambda w: w.p.describe_data_deletion_job(dataDeletionJobArn=deletion_job(w)),
         check=lambda r, w: r["dataDeletionJob"]["status"] == "COMPLETED" and r["dataDeletionJob"]["numDeleted"] == 0
         and r["dataDeletionJob"]["datasetGroupArn"] == w.group),
    Case("DescribeDataDeletionJob", lambda w: w.p.describe_data_deletion_job(
        dataDeletionJobArn=w.missing("data-deletion-job")), raises="ResourceNotFoundException", match="does not exist"),
    Case("ListDataDeletionJobs", lambda w: (deletion_job(w), w.p.list_data_deletion_jobs(datasetGroupArn=w.group)),
         check=lambda r, w: deletion_job(w) in [j["dataDeletionJobArn"] for j in r[1]["dataDeletionJobs"]]),
    Case("ListDataDeletionJobs", lambda w: w.p.list_data_deletion_jobs(nextToken="forged"),
         raises="InvalidNextTokenException"),
    # ----- UpdateDataset
    Case("UpdateDataset", lambda w: replace(w, users_dataset(w)), check=updated),
    Case("UpdateDataset", lambda w: replace(w, w.missing("dataset")), raises="ResourceNotFoundException",
         match="The given dataset does not exist"),
    Case("UpdateDataset", lambda w: w.p.update_dataset(datasetArn=users_dataset(w), schemaArn=w.missing("schema")),
         raises="ResourceNotFoundException", match="The given schema does not exist", name="schema"),
    Case("UpdateDataset", lambda w: replace(w, updating(w)), raises="ResourceInUseException",
         match="already being updated"),
    Case("UpdateDataset", lambda w: replace(w, pending_dataset(w, "Users")), raises="ResourceInUseException",
         match="CREATE PENDING", name="creating"),
    Case("UpdateDataset", lambda w: replace(w, users_dataset(w), avro("Users", [
        {"name": "USER_ID", "type": "string"}, {"name": "SEGMENT", "type": ["null", "string"], "categorical": True},
        {"name": "AGE", "type": "int"}])), raises="InvalidInputException", match="must be nullable"),
    Case("UpdateDataset", lambda w: replace(w, w.dataset, SCHEMAS["Users"]), raises="InvalidInputException",
         match="Users or Items", name="interactions"),
]

test_conformance = cases_test(CASES)
