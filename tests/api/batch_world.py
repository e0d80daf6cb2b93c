"""Module-scoped worlds for the batch and metric-attribution tests (issue 7): ``open_world(build)`` runs
``build()`` inside one mock_personalize with fake credentials and yields what it returns."""

from __future__ import annotations

import contextlib
import itertools
import json
import posixpath

import pytest

from localpersonalize import mock_personalize

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def open_world(build):
    """Yield ``build()`` run inside an open mock_personalize (closed, and the environment restored, after)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_personalize():
            yield build()


ROLE = "arn:aws:iam::123456789012:role/r"
_jobs = itertools.count()

#: kind -> (create method, ARN key, describe method, record key) of the two batch job kinds.
JOB_KINDS = {"inference": ("create_batch_inference_job", "batchInferenceJobArn",
                           "describe_batch_inference_job", "batchInferenceJob"),
             "segment": ("create_batch_segment_job", "batchSegmentJobArn",
                         "describe_batch_segment_job", "batchSegmentJob")}


def put_lines(key: str, lines) -> None:
    """Write JSON Lines (dicts, or raw strings as they are) to ``s3://bucket/<key>``."""
    import boto3

    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    boto3.client("s3").put_object(Bucket="bucket", Key=key, Body=body.encode())


def run_batch_job(kind: str, version_arn: str, lines, prefix: str, expect: str = "ACTIVE", key: str | None = None,
                  **kw):
    """Write ``lines`` to S3, run a batch ``kind`` job ("inference" | "segment") on ``version_arn``, wait for
    it, assert its status is ``expect`` and return the parsed ``.out`` lines (or the job record when it is
    not ACTIVE). Input at ``<prefix>-in/<n>/input.json`` unless ``key`` is given; output under
    ``<prefix>-out/<n>/``."""
    import boto3

    from ..helpers import wait_for

    n = next(_jobs)
    key = key or f"{prefix}-in/{n}/input.json"
    put_lines(key, lines)
    create, arn_key, describe, record_key = JOB_KINDS[kind]
    personalize = boto3.client("personalize")
    arn = getattr(personalize, create)(
        jobName=f"{prefix}-{n}", solutionVersionArn=version_arn, roleArn=ROLE,
        jobInput={"s3DataSource": {"path": f"s3://bucket/{key}"}},
        jobOutput={"s3DataDestination": {"path": f"s3://bucket/{prefix}-out/{n}/"}}, **kw)[arn_key]
    job = wait_for(lambda: getattr(personalize, describe)(**{arn_key: arn}), record_key)
    assert job["status"] == expect, job.get("failureReason")
    if expect != "ACTIVE":
        return job
    out = f"{prefix}-out/{n}/{posixpath.basename(key)}.out"
    body = boto3.client("s3").get_object(Bucket="bucket", Key=out)["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


GENRE_WORDS = {"Comedy": "a wedding full of laughs with old friends",
               "Drama": "a family torn apart by a courtroom trial",
               "Horror": "a haunted house where a ghost walks at night"}


def build_catalogue(recipes: tuple[str, ...]) -> dict:
    """A custom dataset group with Items (TITLE, GENRE categorical, DESCRIPTION textual; 60 items in the
    3 genres of runtime_world) and its Interactions (80 users who mostly stay in one genre: user u likes
    genre u % 3), and one ACTIVE solution version per recipe name in ``recipes`` (world[name])."""
    import boto3

    from ..helpers import wait_for
    from .runtime_world import GENRES, N_ITEMS, _import, _schema, genre_of, interactions

    personalize = boto3.client("personalize")
    boto3.client("s3").create_bucket(Bucket="bucket")
    world = {"group": personalize.create_dataset_group(name="catalogue")["datasetGroupArn"]}
    items = personalize.create_dataset(
        name="catalogue-items", datasetGroupArn=world["group"], datasetType="Items",
        schemaArn=_schema("Items", [{"name": "ITEM_ID", "type": "string"}, {"name": "TITLE", "type": "string"},
                                    {"name": "GENRE", "type": "string", "categorical": True},
                                    {"name": "DESCRIPTION", "type": "string", "textual": True}]))["datasetArn"]
    _import(personalize, items, "catalogue-items", "ITEM_ID,TITLE,GENRE,DESCRIPTION",
            [(f"i{i}", f"{genre_of(i)} Story {i}", genre_of(i), GENRE_WORDS[genre_of(i)]) for i in range(N_ITEMS)])
    world["interactions"] = personalize.create_dataset(
        name="catalogue-interactions", datasetGroupArn=world["group"], datasetType="Interactions",
        schemaArn=_schema("Interactions", [{"name": "USER_ID", "type": "string"},
                                           {"name": "ITEM_ID", "type": "string"},
                                           {"name": "TIMESTAMP", "type": "long"},
                                           {"name": "EVENT_TYPE", "type": "string"}]))["datasetArn"]
    _import(personalize, world["interactions"], "catalogue-interactions", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE",
            interactions())
    for recipe in recipes:
        solution = personalize.create_solution(name=f"catalogue-{recipe}", datasetGroupArn=world["group"],
                                               recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
                                               performAutoTraining=False)["solutionArn"]
        version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        found = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
        assert found["status"] == "ACTIVE", found.get("failureReason")
        world[recipe] = version
    world["genres"] = GENRES
    return world
