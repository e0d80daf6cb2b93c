"""Data in and out of a dataset group: dataset export jobs, data deletion jobs, UpdateDataset (spec 40
§9-§11), and :class:`DataSource`, the reader of data locations shared with dataset import jobs.

Data locations are ``s3://bucket/key`` or ``s3://bucket/folder/`` in moto's S3, read and written in
process through :mod:`localpersonalize.moto_compat`. There is no ``file://`` convenience: the model's
``S3Location`` pattern (``(s3|http|https)://.+``) refuses it with a ValidationException, as the service
does, so code written against the emulator stays valid against AWS.
"""

from __future__ import annotations

import json

from .. import moto_compat
from ..control import lifecycle, quotas
from ..data import schemas
from ..data.csv_import import CHUNK_BYTES, ImportFailure, SizedChunks, parse_csv
from ..errors import InvalidInputException, ResourceInUseException
from . import operation
from .common import describe_record, list_children, require_active

#: Data deletion jobs: input CSV files together at most 50 MB (spec 40 §11.1, spec 60 §1.12).
MAX_DELETION_INPUT_BYTES = 50 * 2**20
#: Statuses of a data deletion job (model doc of DataDeletionJob.status).
DELETION_CHAIN = ("PENDING", "IN_PROGRESS")
#: The schema of a data deletion file: a single USER_ID column (spec 40 §11.1).
_DELETION_SCHEMA = schemas.parse_schema(json.dumps(
    {"type": "record", "name": "DataDeletion", "fields": [{"name": "USER_ID", "type": "string"}]}))


class DataSource:
    """The files of a data location, listed when the job is created (a missing bucket, object or folder
    is refused then, spec 60 §4.1) and read when the job runs.

    ``recursive``: a folder location also covers its sub-folders (data deletion jobs). Raises
    :class:`moto_compat.InvalidLocation` for a malformed or disallowed location and
    :class:`moto_compat.S3Error` when nothing is found.
    """

    def __init__(self, account_id: str, location: str, recursive: bool = False):
        self.account_id = account_id
        self.location = location
        self.files = moto_compat.s3_keys(account_id, location, recursive)
        self.bucket = moto_compat.split_s3_uri(location)[0]

    def size(self) -> int:
        """Total bytes of the files."""
        return sum(moto_compat.s3_size(self.account_id, self.bucket, k) for k in self.files)

    def streams(self) -> list:
        """One lazy iterable of byte chunks per file, with the file's size (:class:`SizedChunks`, for
        ``parse_csv``); a file that has gone meanwhile raises :class:`ImportFailure` while it is read."""
        return [SizedChunks(self._chunks(f), self._size(f), f"s3://{self.bucket}/{f}") for f in self.files]

    def _size(self, key) -> int:
        try:
            return moto_compat.s3_size(self.account_id, self.bucket, key)
        except moto_compat.S3Error:
            return 0  # gone: reading it fails with the reason

    def _chunks(self, key):
        try:
            yield from moto_compat.s3_chunks(self.account_id, self.bucket, key, size=CHUNK_BYTES)
        except moto_compat.S3Error as exc:
            raise ImportFailure(f"Insufficient privileges for accessing data in S3: {exc}.") from None


def _source(account_id: str, location: str | None, recursive: bool = False) -> DataSource:
    """A :class:`DataSource`, with the service's synchronous refusals as InvalidInputException."""
    if not location:
        raise InvalidInputException("Invalid data location.")
    try:
        return DataSource(account_id, location, recursive)
    except moto_compat.InvalidLocation as exc:
        raise InvalidInputException(str(exc)) from None
    except moto_compat.S3Error as exc:
        raise InvalidInputException(f"Insufficient privileges for accessing data in S3: {exc}.") from None


# ----- dataset export jobs (spec 40 §9)
@operation("CreateDatasetExportJob")
def create_dataset_export_job(ctx, p):
    """Write the dataset's rows of ``ingestionMode`` (``BULK``/``PUT``/``ALL``, default ``PUT``) as one CSV
    with the schema's header to ``<path>/<jobName>/<datasetType>_part_00000.csv``. Refused for Actions
    and Action interactions datasets; an unwritable destination ends the job in CREATE FAILED."""
    store = ctx.store
    with store.lock:
        dataset = store.get("dataset", p["datasetArn"])
        require_active(dataset, "dataset")
        dtype = dataset.extra["type"]
        if dtype in ("ACTIONS", "ACTION_INTERACTIONS"):
            raise InvalidInputException(f"Dataset export jobs are not supported for {dataset.record['datasetType']} "
                                        "datasets.")
        destination = p["jobOutput"]["s3DataDestination"]["path"]
        try:
            bucket, prefix = moto_compat.split_s3_uri(destination if destination.endswith("/") else destination + "/")
        except moto_compat.InvalidLocation:
            raise InvalidInputException(f"Invalid S3 output path {destination}: expected s3://<bucket>/<folder>/.") \
                from None
        mode = p.get("ingestionMode") or "PUT"
        arn = store.arn("dataset-export-job", p["jobName"])
        record = {"jobName": p["jobName"], "datasetExportJobArn": arn, "datasetArn": dataset.arn,
                  "ingestionMode": mode, "roleArn": p["roleArn"], "jobOutput": p["jobOutput"]}
        job = store.create("dataset-export-job", arn, record, parent=dataset.arn, tags=p.get("tags"))
        group_data = store.get("dataset-group", dataset.parent).extra["data"]

    def work():
        with group_data.reading():  # the rows of one moment, while events go on
            data, _ = group_data.dataset(dtype).export_csv(mode)
        try:
            moto_compat.s3_write(ctx.account_id, bucket, f"{prefix}{p['jobName']}/{dtype}_part_00000.csv", data)
        except moto_compat.S3Error as exc:
            raise lifecycle.FailedWork(f"Insufficient privileges for writing data to S3: {exc}.") from None

    lifecycle.run_work(job, store, work)
    return {"datasetExportJobArn": arn}


@operation("DescribeDatasetExportJob")
def describe_dataset_export_job(ctx, p):
    return describe_record(ctx, p, "dataset-export-job", "datasetExportJob")


@operation("ListDatasetExportJobs")
def list_dataset_export_jobs(ctx, p):
    return list_children(ctx, p, "dataset-export-job", "datasetExportJobs", "datasetArn")


# ----- data deletion jobs (spec 40 §11)
@operation("CreateDataDeletionJob")
def create_data_deletion_job(ctx, p):
    """Delete the users listed in a CSV with a single USER_ID column (a file, or every ``.csv`` of a folder
    and its sub-folders; ≤ 50 MB together) and all their records from every dataset of the group.
    ``PENDING -> IN_PROGRESS -> COMPLETED | FAILED``; ``numDeleted`` counts the records removed. Trained
    models keep what they learnt until their next training, as in the service. At most 5 PENDING jobs per
    dataset group (LimitExceededException)."""
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        require_active(group, "dataset group")
        source = _source(ctx.account_id, p["dataSource"].get("dataLocation"), recursive=True)
        arn = store.arn("data-deletion-job", p["jobName"])
        if store.find(arn) is None:
            quotas.check("pending_data_deletion_jobs_per_dataset_group",
                         len(store.all("data-deletion-job", lambda j: j.parent == group.arn
                                       and j.status == DELETION_CHAIN[0])))
        record = {"jobName": p["jobName"], "dataDeletionJobArn": arn, "datasetGroupArn": group.arn,
                  "dataSource": {"dataLocation": source.location}, "roleArn": p["roleArn"]}
        job = store.create("data-deletion-job", arn, record, parent=group.arn, tags=p.get("tags"))
        group_data = group.extra["data"]

    def work():
        size = source.size()
        if size > MAX_DELETION_INPUT_BYTES:
            raise lifecycle.FailedWork(f"The input files total {size} bytes; a data deletion job accepts at most "
                                       f"{MAX_DELETION_INPUT_BYTES} bytes (50 MB).")
        user_ids = []
        streams = source.streams()
        for stream in streams:
            try:
                user_ids.extend(parse_csv(stream, _DELETION_SCHEMA).strings("USER_ID").tolist())
            except ImportFailure as exc:  # each file counts its own lines: a folder's failure names the file
                where = f"{stream.name}: " if len(streams) > 1 else ""
                raise lifecycle.FailedWork(f"Invalid input file: {where}{exc.reason}. The file must be a CSV "
                                           "with a single USER_ID column.") from None
        store.touch(job, numDeleted=group_data.delete_users(user_ids))

    lifecycle.run_work(job, store, work, done_status="COMPLETED", statuses=DELETION_CHAIN, failed_status="FAILED")
    return {"dataDeletionJobArn": arn}


@operation("DescribeDataDeletionJob")
def describe_data_deletion_job(ctx, p):
    return describe_record(ctx, p, "data-deletion-job", "dataDeletionJob")


@operation("ListDataDeletionJobs")
def list_data_deletion_jobs(ctx, p):
    return list_children(ctx, p, "data-deletion-job", "dataDeletionJobs", "datasetGroupArn")


# ----- schema replacement (spec 40 §10)
@operation("UpdateDataset")
def update_dataset(ctx, p):
    """Replace the schema of a Users or Items dataset: every old field kept as it was, new fields
    nullable; the rows already stored stay and get nulls in the new fields. ``latestDatasetUpdate``
    walks ``UPDATE PENDING -> UPDATE IN_PROGRESS -> ACTIVE`` and the dataset's ``schemaArn`` changes at
    its end."""
    store = ctx.store
    with store.lock:
        dataset = store.get("dataset", p["datasetArn"])
        schema = store.get("schema", p["schemaArn"])
        require_active(dataset, "dataset")
        if store.transition(dataset, "latestDatasetUpdate") is not None:
            raise ResourceInUseException(f"The dataset {dataset.arn} is already being updated.")
        group = store.get("dataset-group", dataset.parent)
        domain = group.record.get("domain")
        if (schema.record.get("domain") or None) != (domain or None):
            raise InvalidInputException(f"The schema's domain ({schema.record.get('domain') or 'none'}) does not "
                                        f"match the dataset group's domain ({domain or 'none'}).")
        rows = group.extra["data"].dataset(dataset.extra["type"])
        try:
            schemas.check_schema_replacement(rows.schema, schema.extra["parsed"], dataset.extra["type"], domain)
        except schemas.SchemaError as exc:
            raise InvalidInputException(str(exc)) from None
        now = store.clock.now()
        dataset.record["latestDatasetUpdate"] = {"schemaArn": schema.arn, "creationDateTime": now,
                                                 "lastUpdatedDateTime": now}

        def finish(reason, at):
            rows.replace_schema(schema.extra["parsed"])
            store.touch_update(dataset, "latestDatasetUpdate", at=at, status=lifecycle.ACTIVE)
            store.touch(dataset, at=at, schemaArn=schema.arn)

        store.start(dataset, ("UPDATE PENDING", "UPDATE IN_PROGRESS"), finish=finish, field="latestDatasetUpdate")
    return {"datasetArn": dataset.arn}
