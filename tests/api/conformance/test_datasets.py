"""Conformance of dataset groups, schemas, datasets and dataset import jobs, by operation."""

from __future__ import annotations

import json

from localpersonalize.control import clock

from .harness import Case, cases_test
from .world import INTERACTIONS, ROLE

OPERATIONS = ["CreateDatasetGroup", "DescribeDatasetGroup", "ListDatasetGroups", "DeleteDatasetGroup",
              "CreateSchema", "DescribeSchema", "ListSchemas", "DeleteSchema",
              "CreateDataset", "DescribeDataset", "ListDatasets", "DeleteDataset",
              "CreateDatasetImportJob", "DescribeDatasetImportJob", "ListDatasetImportJobs"]

PATTERN = "an ARN that is not one is refused by the input pattern (ValidationException) first"
UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in (
        "DescribeDatasetGroup", "DeleteDatasetGroup", "DescribeSchema", "DeleteSchema", "DescribeDataset",
        "DeleteDataset", "DescribeDatasetImportJob")},
    ("ListDatasets", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    ("ListDatasetImportJobs", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    ("CreateDataset", "LimitExceededException"): "one dataset per type per group: a second one is "
                                                 "ResourceAlreadyExistsException (its ARN is taken)",
}
TAGS51 = [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(51)]


def stepped(fn):
    """Run ``fn(world)`` with stepped pacing (so resources stay in their first status)."""
    def call(w):
        clock.set_pacing("stepped")
        return fn(w)
    return call


def quota(name, value, fn):
    def call(w):
        clock.set_quota(name, value)
        return fn(w)
    return call


def group_with_dataset(w):
    w.dataset
    return w.group


def import_into(w, dataset, name="job2", location=None, **kw):
    location = location or w.upload("more.csv", b"USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n")
    return w.p.create_dataset_import_job(jobName=name, datasetArn=dataset, roleArn=ROLE,
                                         dataSource={"dataLocation": location}, **kw)


CASES = [
    # ----- dataset groups
    Case("CreateDatasetGroup", lambda w: w.p.create_dataset_group(name="g1", domain="ECOMMERCE"),
         check=lambda r, w: r == {"datasetGroupArn": w.missing("dataset-group", "g1"), "domain": "ECOMMERCE",
                                  "ResponseMetadata": r["ResponseMetadata"]}),
    Case("CreateDatasetGroup", lambda w: (w.group, w.p.create_dataset_group(name="group")),
         raises="ResourceAlreadyExistsException", match="Another resource with Arn"),
    Case("CreateDatasetGroup", quota("active_dataset_groups", 1, lambda w: (w.group, w.p.create_dataset_group(name="g2"))),
         raises="LimitExceededException", match="more than 1 resources with ACTIVE status"),
    Case("CreateDatasetGroup", lambda w: w.p.create_dataset_group(name="g", roleArn=ROLE),
         raises="InvalidInputException", match="kmsKeyArn"),
    Case("CreateDatasetGroup", lambda w: w.p.create_dataset_group(name="g", tags=TAGS51),
         raises="TooManyTagsException"),
    Case("DescribeDatasetGroup", lambda w: w.p.describe_dataset_group(datasetGroupArn=w.group),
         check=lambda r, w: r["datasetGroup"]["status"] == "ACTIVE"),
    Case("DescribeDatasetGroup", lambda w: w.p.describe_dataset_group(datasetGroupArn=w.missing("dataset-group")),
         raises="ResourceNotFoundException", match="The given dataset group does not exist"),
    Case("ListDatasetGroups", lambda w: (w.group, w.p.list_dataset_groups(maxResults=1)),
         check=lambda r, w: [g["datasetGroupArn"] for g in r[1]["datasetGroups"]] == [w.group]),
    Case("ListDatasetGroups", lambda w: w.p.list_dataset_groups(nextToken="forged"),
         raises="InvalidNextTokenException"),
    Case("DeleteDatasetGroup", lambda w: w.p.delete_dataset_group(datasetGroupArn=w.group)),
    Case("DeleteDatasetGroup", lambda w: w.p.delete_dataset_group(datasetGroupArn=w.missing("dataset-group")),
         raises="ResourceNotFoundException"),
    Case("DeleteDatasetGroup", lambda w: w.p.delete_dataset_group(datasetGroupArn=group_with_dataset(w)),
         raises="ResourceInUseException", match="Delete them first"),
    # ----- schemas
    Case("CreateSchema", lambda w: w.p.create_schema(name="s", schema=INTERACTIONS)),
    Case("CreateSchema", lambda w: (w.schema, w.p.create_schema(name="interactions", schema=INTERACTIONS)),
         raises="ResourceAlreadyExistsException"),
    Case("CreateSchema", lambda w: w.p.create_schema(name="s", schema=json.dumps({"type": "record"})),
         raises="InvalidInputException"),
    Case("CreateSchema", quota("active_schemas", 1, lambda w: (w.schema, w.p.create_schema(name="s", schema=INTERACTIONS))),
         raises="LimitExceededException"),
    Case("DescribeSchema", lambda w: w.p.describe_schema(schemaArn=w.schema),
         check=lambda r, w: r["schema"]["schema"] == INTERACTIONS),
    Case("DescribeSchema", lambda w: w.p.describe_schema(schemaArn=w.missing("schema")),
         raises="ResourceNotFoundException", match="The given schema does not exist"),
    Case("ListSchemas", lambda w: (w.schema, w.p.list_schemas())),
    Case("ListSchemas", lambda w: w.p.list_schemas(nextToken="Zm9v.0123"), raises="InvalidNextTokenException"),
    Case("DeleteSchema", lambda w: w.p.delete_schema(schemaArn=w.schema)),
    Case("DeleteSchema", lambda w: w.p.delete_schema(schemaArn=w.missing("schema")), raises="ResourceNotFoundException"),
    Case("DeleteSchema", lambda w: (w.dataset, w.p.delete_schema(schemaArn=w.schema)), raises="ResourceInUseException"),
    # ----- datasets
    Case("CreateDataset", lambda w: w.p.create_dataset(name="d", schemaArn=w.schema, datasetGroupArn=w.group,
                                                       datasetType="interactions"),
         check=lambda r, w: r["datasetArn"].endswith(":dataset/group/INTERACTIONS")),
    Case("CreateDataset", lambda w: (w.dataset, w.p.create_dataset(name="d2", schemaArn=w.schema, datasetGroupArn=w.group,
                                                                   datasetType="Interactions")),
         raises="ResourceAlreadyExistsException"),
    Case("CreateDataset", lambda w: w.p.create_dataset(name="d", schemaArn=w.schema, datasetType="Interactions",
                                                       datasetGroupArn=w.missing("dataset-group")),
         raises="ResourceNotFoundException"),
    Case("CreateDataset", stepped(lambda w: w.p.create_dataset(
        name="d", schemaArn=w.schema, datasetType="Interactions",
        datasetGroupArn=w.p.create_dataset_group(name="new")["datasetGroupArn"])), raises="ResourceInUseException"),
    Case("CreateDataset", lambda w: w.p.create_dataset(name="d", schemaArn=w.domain_schema, datasetType="Actions",
                                                       datasetGroupArn=w.domain_group),
         raises="InvalidInputException", match="domain dataset group"),
    Case("CreateDataset", lambda w: w.p.create_dataset(name="d", schemaArn=w.schema, datasetGroupArn=w.group,
                                                       datasetType="Interactions", tags=TAGS51),
         raises="TooManyTagsException"),
    Case("DescribeDataset", lambda w: w.p.describe_dataset(datasetArn=w.dataset),
         check=lambda r, w: r["dataset"]["status"] == "ACTIVE" and r["dataset"]["schemaArn"] == w.schema),
    Case("DescribeDataset", lambda w: w.p.describe_dataset(datasetArn=w.missing("dataset")),
         raises="ResourceNotFoundException"),
    Case("ListDatasets", lambda w: (w.dataset, w.p.list_datasets(datasetGroupArn=w.group)),
         check=lambda r, w: [d["datasetArn"] for d in r[1]["datasets"]] == [w.dataset]),
    Case("ListDatasets", lambda w: w.p.list_datasets(nextToken="forged"), raises="InvalidNextTokenException"),
    Case("DeleteDataset", lambda w: w.p.delete_dataset(datasetArn=w.dataset)),
    Case("DeleteDataset", lambda w: w.p.delete_dataset(datasetArn=w.missing("dataset")),
         raises="ResourceNotFoundException"),
    Case("DeleteDataset", lambda w: (w.dataset, clock.set_pacing("stepped"), w.new_import(w.dataset, "j", wait=False),
                                     w.p.delete_dataset(datasetArn=w.dataset)),
         raises="ResourceInUseException", match="CREATE PENDING"),
    # ----- import jobs
    Case("CreateDatasetImportJob", lambda w: w.new_import(w.dataset, "j", wait=False)),
    Case("CreateDatasetImportJob", lambda w: (w.import_job, w.new_import(w.dataset, "import", wait=False)),
         raises="ResourceAlreadyExistsException"),
    Case("CreateDatasetImportJob", lambda w: import_into(w, w.missing("dataset")), raises="ResourceNotFoundException"),
    Case("CreateDatasetImportJob", stepped(lambda w: import_into(w, w.p.create_dataset(
        name="d", schemaArn=w.schema, datasetGroupArn=w.group, datasetType="Interactions")["datasetArn"])),
         raises="ResourceInUseException"),
    Case("CreateDatasetImportJob", lambda w: import_into(w, w.dataset, location="s3://bucket/nothing.csv"),
         raises="InvalidInputException", match="Insufficient privileges"),
    Case("CreateDatasetImportJob", quota("pending_dataset_import_jobs", 1, lambda w: (
        w.dataset, clock.set_pacing("stepped"), w.new_import(w.dataset, "a", wait=False), import_into(w, w.dataset))),
         raises="LimitExceededException", match="More than 1 resources with PENDING or IN_PROGRESS status."),
    Case("CreateDatasetImportJob", lambda w: import_into(w, w.dataset, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeDatasetImportJob", lambda w: w.p.describe_dataset_import_job(datasetImportJobArn=w.import_job),
         check=lambda r, w: r["datasetImportJob"]["status"] == "ACTIVE" and r["datasetImportJob"]["importMode"] == "FULL"),
    Case("DescribeDatasetImportJob", lambda w: w.p.describe_dataset_import_job(
        datasetImportJobArn=w.missing("dataset-import-job")), raises="ResourceNotFoundException"),
    Case("ListDatasetImportJobs", lambda w: (w.import_job, w.p.list_dataset_import_jobs(datasetArn=w.dataset)),
         check=lambda r, w: [j["datasetImportJobArn"] for j in r[1]["datasetImportJobs"]] == [w.import_job]),
    Case("ListDatasetImportJobs", lambda w: w.p.list_dataset_import_jobs(nextToken="x"), raises="InvalidNextTokenException"),
]

test_conformance = cases_test(CASES)
