"""Conformance of batch inference jobs and batch segment jobs, by operation (one shared world for the
module: the popularity version of the custom chain, and its Item-Affinity version beside it)."""

from __future__ import annotations

import pytest

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN, TAGS51, quota
from .world import ROLE, settled

OPERATIONS = ["CreateBatchInferenceJob", "DescribeBatchInferenceJob", "ListBatchInferenceJobs",
              "CreateBatchSegmentJob", "DescribeBatchSegmentJob", "ListBatchSegmentJobs"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in ("DescribeBatchInferenceJob", "DescribeBatchSegmentJob")},
    **{(op, "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN
       for op in ("ListBatchInferenceJobs", "ListBatchSegmentJobs")},
}
#: (Create operation (python name), ARN key, Describe operation, record key) per kind of job.
KINDS = {"inference": ("create_batch_inference_job", "batchInferenceJobArn", "describe_batch_inference_job",
                       "batchInferenceJob"),
         "segment": ("create_batch_segment_job", "batchSegmentJobArn", "describe_batch_segment_job", "batchSegmentJob")}


@pytest.fixture
def world(shared_world):
    return shared_world


def job(w, kind, version=None, name=None, input_path=None, output_path=None, **kw):
    """Create a batch job of ``kind`` (``inference``: users of the popularity version; ``segment``: items
    of the Item-Affinity version) reading one JSON Lines file."""
    create = KINDS[kind][0]
    if input_path is None:
        line = b'{"userId": "u1"}\n{"userId": "u2"}\n' if kind == "inference" else b'{"itemId": "i1"}\n'
        input_path = w.upload(f"{kind}-in/lines.json", line)
    version = version or (w.version if kind == "inference" else w.affinity_version)
    return getattr(w.p, create)(jobName=name or w.fresh(kind), solutionVersionArn=version, roleArn=ROLE,
                                jobInput={"s3DataSource": {"path": input_path}},
                                jobOutput={"s3DataDestination": {"path": output_path or f"s3://bucket/{kind}-out/"}},
                                **kw)


def shared_job(w, kind) -> str:
    """The module's ACTIVE job of ``kind`` (named after it)."""
    key = f"{kind}_job"
    if key not in w.__dict__:
        _, arn_key, describe, record = KINDS[kind]
        arn = job(w, kind, name=kind)[arn_key]
        assert settled(lambda: getattr(w.p, describe)(**{arn_key: arn}), record)["status"] == "ACTIVE"
        w.__dict__[key] = arn
    return w.__dict__[key]


def finished(kind):
    """Check: the job ends ACTIVE and wrote ``lines.json.out`` with an output per input line."""
    _, arn_key, describe, record = KINDS[kind]

    def check(r, w):
        found = settled(lambda: getattr(w.p, describe)(**{arn_key: r[arn_key]}), record)
        assert found["status"] == "ACTIVE", found.get("failureReason")
        body = w.s3.get_object(Bucket="bucket", Key=f"{kind}-out/lines.json.out")["Body"].read().decode()
        assert all('"output"' in line for line in body.splitlines()) and body.count("\n") == (2 if kind == "inference"
                                                                                             else 1)
    return check


def training_version(w, kind) -> str:
    """A version of the kind's recipe still in CREATE PENDING (stepped pacing from here on)."""
    w.import_job
    solution = w.solution if kind == "inference" else w.new_solution(w.fresh("affinity"), "aws-item-affinity")
    clock.set_pacing("stepped")
    return w.new_version(solution, wait=False)


def family(kind, create_op, describe_op, list_op, arn_key, record, plural):
    """The cases of one kind of batch job (both kinds declare the same errors)."""
    other = "segment" if kind == "inference" else "inference"
    return [
        Case(create_op, lambda w: job(w, kind), check=finished(kind)),
        Case(create_op, lambda w: (shared_job(w, kind), job(w, kind, name=kind)),
             raises="ResourceAlreadyExistsException", match="Another resource with Arn"),
        Case(create_op, lambda w: job(w, kind, w.missing("solution-version")), raises="ResourceNotFoundException",
             match="The given solution version does not exist"),
        Case(create_op, lambda w: job(w, kind, training_version(w, kind)), raises="ResourceInUseException",
             match="CREATE PENDING"),
        Case(create_op, lambda w: job(w, kind, input_path="s3://bucket/same/", output_path="s3://bucket/same/"),
             raises="InvalidInputException", match="another folder than the input"),
        Case(create_op, lambda w: job(w, kind, w.version if kind == "segment" else w.affinity_version),
             raises="InvalidInputException", name=f"{other}-recipe"),
        Case(create_op, lambda w: job(w, kind, filterArn=w.missing("filter")), raises="ResourceNotFoundException",
             match="The given filter does not exist", name="filter"),
        Case(create_op, quota(f"pending_batch_{kind}_jobs", 0, lambda w: job(w, kind)), raises="LimitExceededException",
             match="More than 0 resources with PENDING or IN_PROGRESS status."),
        Case(create_op, lambda w: job(w, kind, tags=TAGS51), raises="TooManyTagsException"),
        Case(describe_op, lambda w: getattr(w.p, KINDS[kind][2])(**{arn_key: shared_job(w, kind)}),
             check=lambda r, w: r[record]["status"] == "ACTIVE" and r[record]["jobName"] == kind
             and r[record]["solutionVersionArn"] == (w.version if kind == "inference" else w.affinity_version)),
        Case(describe_op, lambda w: getattr(w.p, KINDS[kind][2])(**{arn_key: w.missing(f"batch-{kind}-job")}),
             raises="ResourceNotFoundException", match="does not exist"),
        Case(list_op, lambda w: (shared_job(w, kind), getattr(w.p, f"list_batch_{kind}_jobs")(
            solutionVersionArn=w.version if kind == "inference" else w.affinity_version)),
             check=lambda r, w: w.__dict__[f"{kind}_job"] in [j[arn_key] for j in r[1][plural]]),
        Case(list_op, lambda w: getattr(w.p, f"list_batch_{kind}_jobs")(nextToken="forged"),
             raises="InvalidNextTokenException"),
    ]


CASES = (family("inference", "CreateBatchInferenceJob", "DescribeBatchInferenceJob", "ListBatchInferenceJobs",
                "batchInferenceJobArn", "batchInferenceJob", "batchInferenceJobs")
         + family("segment", "CreateBatchSegmentJob", "DescribeBatchSegmentJob", "ListBatchSegmentJobs",
                  "batchSegmentJobArn", "batchSegmentJob", "batchSegmentJobs"))

test_conformance = cases_test(CASES)
