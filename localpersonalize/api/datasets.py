"""Dataset groups, schemas, datasets and dataset import jobs (spec 30 §1-§3, spec 10)."""

from __future__ import annotations

import uuid

from ..control import lifecycle, quotas
from ..control.arns import dataset_arn
from ..control.lifecycle import COUNTS_AS_ACTIVE, PENDING_OR_RUNNING, FailedWork
from ..data import csv_import, schemas
from ..data.datasets import DatasetGroupData
from ..errors import InvalidInputException, ResourceInUseException
from .. import moto_compat
from . import metric_attributions, operation
from .data_jobs import DataSource
from .common import (bool_param, delete, describe_record, list_children, list_page, no_busy_children, no_children,
                     require_active)


# ----- dataset groups
@operation("CreateDatasetGroup")
def create_dataset_group(ctx, p):
    """Custom or domain group; `CREATE PENDING > CREATE IN_PROGRESS > ACTIVE`; `roleArn` only with `kmsKeyArn`;
    quota of active dataset groups."""
    if p.get("roleArn") and not p.get("kmsKeyArn"):
        raise InvalidInputException("roleArn is only valid together with kmsKeyArn.")
    store = ctx.store
    with store.lock:
        arn = store.arn("dataset-group", p["name"])
        if store.find(arn) is None:
            quotas.check("active_dataset_groups", len(store.all("dataset-group", _active)))
        record = {k: p.get(k) for k in ("name", "roleArn", "kmsKeyArn", "domain")}
        record["datasetGroupArn"] = arn
        res = store.create("dataset-group", arn, record, tags=p.get("tags"))
        res.extra["data"] = DatasetGroupData(p.get("domain"))
        lifecycle.run_work(res, store, None)
    return {"datasetGroupArn": arn, "domain": p.get("domain")}


def _active(res) -> bool:
    return res.status in COUNTS_AS_ACTIVE


@operation("DescribeDatasetGroup")
def describe_dataset_group(ctx, p):
    """Every field of the group, its current status (stepped pacing advances it)."""
    return describe_record(ctx, p, "dataset-group", "datasetGroup")


@operation("ListDatasetGroups")
def list_dataset_groups(ctx, p):
    """Newest first, opaque tokens, `maxResults` 1-100."""
    return list_page(ctx.store.all("dataset-group"), p, "datasetGroups")


@operation("DeleteDatasetGroup")
def delete_dataset_group(ctx, p):
    """`DELETE PENDING > gone`; refused while datasets, solutions, recommenders, trackers, filters or metric
    attributions remain."""
    store = ctx.store
    with store.lock:
        res = store.get("dataset-group", p["datasetGroupArn"])
        no_children(store, res, ("dataset", "solution", "recommender", "event-tracker", "filter",
                                 "metric-attribution"), "dataset group")
        delete(store, res, "dataset group", chain=(lifecycle.DELETE_PENDING,))
    return {}


# ----- schemas
@operation("CreateSchema")
def create_schema(ctx, p):
    """Avro checked against the rules per dataset type and domain; quota of schemas."""
    try:
        parsed = schemas.parse_schema(p["schema"], p.get("domain"))
    except schemas.SchemaError as exc:
        raise InvalidInputException(str(exc)) from None
    store = ctx.store
    with store.lock:
        arn = store.arn("schema", p["name"])
        if store.find(arn) is None:
            quotas.check("active_schemas", len(store.all("schema")))
        record = {"name": p["name"], "schemaArn": arn, "schema": p["schema"], "domain": p.get("domain")}
        res = store.create("schema", arn, record, status=None)
        res.extra["parsed"] = parsed
    return {"schemaArn": arn}


@operation("DescribeSchema")
def describe_schema(ctx, p):
    """The schema as created."""
    return {"schema": ctx.store.get("schema", p["schemaArn"]).record}


@operation("ListSchemas")
def list_schemas(ctx, p):
    """Newest first, opaque tokens."""
    return list_page(ctx.store.all("schema"), p, "schemas")


@operation("DeleteSchema")
def delete_schema(ctx, p):
    """Refused while a dataset uses it, or is being updated to it (UpdateDataset in progress: the model
    doc of DeleteSchema, "delete all datasets referencing the schema" first)."""
    store = ctx.store
    with store.lock:
        res = store.get("schema", p["schemaArn"])
        users = store.all("dataset", lambda d: d.record["schemaArn"] == res.arn)
        if users:
            raise ResourceInUseException(f"Schema {res.arn} is used by dataset {users[0].arn}.")
        updating = store.all("dataset", lambda d: store.transition(d, "latestDatasetUpdate") is not None
                             and d.record["latestDatasetUpdate"]["schemaArn"] == res.arn)
        if updating:
            raise ResourceInUseException(f"Schema {res.arn} is used by the update of dataset {updating[0].arn} "
                                         f"in progress.")
        store.remove(res)
    return {}


# ----- datasets
@operation("CreateDataset")
def create_dataset(ctx, p):
    """One per type per ACTIVE group; schema domain must match; no Actions datasets in domain groups;
    create chain."""
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        require_active(group, "dataset group")
        schema = store.get("schema", p["schemaArn"])
        dataset_type = schemas.canonical_dataset_type(p["datasetType"])
        if dataset_type is None:
            raise InvalidInputException(
                f"Invalid datasetType {p['datasetType']!r}: expected one of Interactions, Users, Items, "
                "Actions, Action_Interactions."
            )
        domain = group.record.get("domain")
        if domain and dataset_type in ("ACTIONS", "ACTION_INTERACTIONS"):
            raise InvalidInputException(
                f"A domain dataset group ({domain}) cannot have an {p['datasetType']} dataset."
            )
        if (schema.record.get("domain") or None) != (domain or None):
            raise InvalidInputException(
                f"The schema's domain ({schema.record.get('domain') or 'none'}) does not match the dataset "
                f"group's domain ({domain or 'none'})."
            )
        try:
            schemas.check_schema_for_dataset(schema.extra["parsed"], dataset_type, domain)
        except schemas.SchemaError as exc:
            raise InvalidInputException(str(exc)) from None
        arn = dataset_arn(group.arn, dataset_type)
        record = {"name": p["name"], "datasetArn": arn, "datasetGroupArn": group.arn,
                  "datasetType": p["datasetType"], "schemaArn": schema.arn}
        if dataset_type == "ACTION_INTERACTIONS":  # its event tracker comes with it (spec 40 §2.2)
            record["trackingId"] = str(uuid.uuid4())
        res = store.create("dataset", arn, record, parent=group.arn, tags=p.get("tags"))
        res.extra["type"] = dataset_type
        group.extra["data"].create_dataset(dataset_type, schema.extra["parsed"])
        lifecycle.run_work(res, store, None)
    return {"datasetArn": arn}


@operation("DescribeDataset")
def describe_dataset(ctx, p):
    """Every field, current status."""
    return describe_record(ctx, p, "dataset", "dataset")


@operation("ListDatasets")
def list_datasets(ctx, p):
    """Filter by `datasetGroupArn`; newest first, opaque tokens."""
    return list_children(ctx, p, "dataset", "datasets", "datasetGroupArn")


@operation("DeleteDataset")
def delete_dataset(ctx, p):
    """`DELETE PENDING > DELETE IN_PROGRESS > gone`, with its rows and import jobs; refused while an import, export
    or training runs."""
    store = ctx.store
    with store.lock:
        res = store.get("dataset", p["datasetArn"])
        no_busy_children(store, res, ("dataset-import-job", "dataset-export-job"), "dataset")
        training = store.all("solution-version", lambda v: v.record.get("datasetGroupArn") == res.parent
                             and v.status in PENDING_OR_RUNNING)
        if training:
            raise ResourceInUseException(
                f"Cannot delete dataset {res.arn}: solution version {training[0].arn} is {training[0].status}.")

        def gone():
            for job in store.all("dataset-import-job", lambda j: j.parent == res.arn):
                store.remove(job)
            group = store.find(res.parent)
            if group is not None:
                group.extra["data"].delete_dataset(res.extra["type"])

        delete(store, res, "dataset", gone=gone)
    return {}


# ----- dataset import jobs
@operation("CreateDatasetImportJob")
def create_dataset_import_job(ctx, p):
    """CSV from S3 into an ACTIVE dataset, `FULL`/`INCREMENTAL`, in the background; a bad file ends `CREATE FAILED`
    with the reason; quota of jobs in progress; refused while the dataset's schema is being replaced."""
    store = ctx.store
    with store.lock:
        dataset = store.get("dataset", p["datasetArn"])
        require_active(dataset, "dataset")
        update = store.transition(dataset, "latestDatasetUpdate")
        if update is not None:  # "import new data once the dataset is ACTIVE again" (guide L16084-L16169)
            raise ResourceInUseException(f"The dataset {dataset.arn} is being updated to schema "
                                         f"{dataset.record['latestDatasetUpdate']['schemaArn']} "
                                         f"({update.status}); import once its update is ACTIVE.")
        location = p["dataSource"].get("dataLocation")
        if not location:
            raise InvalidInputException("Invalid data location.")
        try:
            source = DataSource(ctx.account_id, location)
        except moto_compat.InvalidLocation as exc:
            raise InvalidInputException(str(exc)) from None
        except moto_compat.S3Error as exc:
            raise InvalidInputException(f"Insufficient privileges for accessing data in S3: {exc}.") from None
        arn = store.arn("dataset-import-job", p["jobName"])
        if store.find(arn) is None:
            quotas.check("pending_dataset_import_jobs",
                         len(store.all("dataset-import-job", lambda j: j.status in PENDING_OR_RUNNING)))
        mode = p.get("importMode") or "FULL"
        record = {"jobName": p["jobName"], "datasetImportJobArn": arn, "datasetArn": dataset.arn,
                  "dataSource": {"dataLocation": location}, "roleArn": p.get("roleArn"), "importMode": mode,
                  "publishAttributionMetricsToS3": bool_param(p.get("publishAttributionMetricsToS3"))}
        job = store.create("dataset-import-job", arn, record, parent=dataset.arn, tags=p.get("tags"))
        group_data = store.get("dataset-group", dataset.parent).extra["data"]

    def work():
        try:
            group_data.dataset(dataset.extra["type"]).import_files(source.streams(), mode)
        except csv_import.ImportFailure as exc:
            raise FailedWork(str(exc)) from None
        store.touch(dataset)

    lifecycle.run_work(job, store, work, on_done=metric_attributions.import_publisher(ctx, job))
    return {"datasetImportJobArn": arn}


@operation("DescribeDatasetImportJob")
def describe_dataset_import_job(ctx, p):
    """Status, `failureReason`, `importMode`."""
    return describe_record(ctx, p, "dataset-import-job", "datasetImportJob")


@operation("ListDatasetImportJobs")
def list_dataset_import_jobs(ctx, p):
    """Filter by `datasetArn`; newest first, opaque tokens."""
    return list_children(ctx, p, "dataset-import-job", "datasetImportJobs", "datasetArn")
