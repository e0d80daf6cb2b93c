"""A small world for the runtime tests, built once per module through boto3: a custom dataset group
(Items, Users, Interactions with click/purchase events) with five campaigns, and a VIDEO_ON_DEMAND group
with a Top picks recommender. Synthetic, seeded data: 60 items in 3 genres, 80 users who mostly stay in one
genre, so a user's history visibly moves their recommendations."""

from __future__ import annotations

import json
import os

import boto3
import numpy as np

from localpersonalize import mock_personalize

from ..helpers import wait_for

RECIPE = "arn:aws:personalize:::recipe/"
N_ITEMS, N_USERS = 60, 80
GENRES = ("Comedy", "Drama", "Horror")


def _schema(name, fields, domain=None):
    doc = json.dumps({"type": "record", "name": name, "namespace": "com.amazonaws.personalize.schema",
                      "fields": fields, "version": "1.0"})
    kw = {"domain": domain} if domain else {}
    return boto3.client("personalize").create_schema(name=f"{name}-{domain or 'custom'}", schema=doc, **kw)["schemaArn"]


def genre_of(item: int) -> str:
    return GENRES[item % 3]


def interactions(event_types=("click", "purchase")) -> list[tuple]:
    """(user, item, timestamp, event type) rows: users mostly interact with their genre's items."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(N_USERS):
        own = [i for i in range(N_ITEMS) if i % 3 == u % 3]
        for k in range(20):
            pool = own if rng.random() < 0.85 else range(N_ITEMS)
            item = int(rng.choice(list(pool)[: 8 + 2 * (k % 6)]))
            rows.append((f"u{u}", f"i{item}", 1_600_000_000 + u * 100 + k, event_types[k % len(event_types)]))
    return rows


def _import(personalize, dataset_arn, name, header, rows):
    body = header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"
    boto3.client("s3").put_object(Bucket="bucket", Key=f"{name}.csv", Body=body.encode())
    job = personalize.create_dataset_import_job(
        jobName=name, datasetArn=dataset_arn, dataSource={"dataLocation": f"s3://bucket/{name}.csv"},
        roleArn="arn:aws:iam::123456789012:role/r")["datasetImportJobArn"]
    assert wait_for(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
                    "datasetImportJob")["status"] == "ACTIVE"


def build() -> dict:
    """Create everything; returns the ARNs by name. Must run inside mock_personalize."""
    personalize = boto3.client("personalize")
    boto3.client("s3").create_bucket(Bucket="bucket")
    arns = {}
    group = arns["group"] = personalize.create_dataset_group(name="rt")["datasetGroupArn"]
    for dtype, name, fields, header, rows in (
        ("Items", "Items", [{"name": "ITEM_ID", "type": "string"},
                            {"name": "GENRE", "type": "string", "categorical": True},
                            {"name": "PRICE", "type": "float"}, {"name": "CREATION_TIMESTAMP", "type": "long"}],
         "ITEM_ID,GENRE,PRICE,CREATION_TIMESTAMP",
         [(f"i{i}", genre_of(i), float(i), 1_600_000_000 + i) for i in range(N_ITEMS)]),
        ("Users", "Users", [{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": "int"}],
         "USER_ID,AGE", [(f"u{u}", 15 + u % 40) for u in range(N_USERS)]),
        ("Interactions", "Interactions", [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                          {"name": "TIMESTAMP", "type": "long"},
                                          {"name": "EVENT_TYPE", "type": "string"}],
         "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE", interactions()),
    ):
        ds = personalize.create_dataset(name=f"rt-{name}", schemaArn=_schema(name, fields), datasetGroupArn=group,
                                        datasetType=dtype)["datasetArn"]
        _import(personalize, ds, f"rt-{name}", header, rows)
    for name, recipe, config in (("up2", "aws-user-personalization-v2", {}),
                                 ("up", "aws-user-personalization", {}),
                                 ("pr", "aws-personalized-ranking", {"enableMetadataWithRecommendations": True}),
                                 ("pop", "aws-popularity-count", {}),
                                 ("sims", "aws-sims", {"enableMetadataWithRecommendations": True})):
        solution = personalize.create_solution(name=f"rt-{name}", datasetGroupArn=group, recipeArn=RECIPE + recipe,
                                               performAutoTraining=False)["solutionArn"]
        version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        found = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version), "solutionVersion")
        assert found["status"] == "ACTIVE", found.get("failureReason")
        arns[name] = personalize.create_campaign(name=f"rt-{name}", solutionVersionArn=version,
                                                 campaignConfig=config)["campaignArn"]
        wait_for(lambda: personalize.describe_campaign(campaignArn=arns[name]), "campaign")

    vod = arns["vod"] = personalize.create_dataset_group(name="rt-vod", domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    ds = personalize.create_dataset(
        name="rt-vod-interactions", datasetGroupArn=vod, datasetType="Interactions",
        schemaArn=_schema("Interactions", [{"name": "USER_ID", "type": "string"},
                                           {"name": "ITEM_ID", "type": "string"},
                                           {"name": "TIMESTAMP", "type": "long"},
                                           {"name": "EVENT_TYPE", "type": "string"}], "VIDEO_ON_DEMAND"))["datasetArn"]
    _import(personalize, ds, "rt-vod", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE", interactions(("Watch",)))
    for name, use_case in (("top", "aws-vod-top-picks"),):  # the use cases with an engine so far
        arns[name] = personalize.create_recommender(name=f"rt-{name}", datasetGroupArn=vod,
                                                    recipeArn=RECIPE + use_case)["recommenderArn"]
        found = wait_for(lambda: personalize.describe_recommender(recommenderArn=arns[name]), "recommender")
        assert found["status"] == "ACTIVE", found.get("failureReason")
    return arns


def open_world():
    """(mock context, arns): the world inside an open mock_personalize, with fake credentials set."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    mock = mock_personalize()
    mock.start()

    def close():
        mock.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    try:
        return build(), close
    except BaseException:
        close()
        raise


def group_data(group_arn: str):
    """The DatasetGroupData behind a dataset group (to stream records until PutEvents lands, issue 4)."""
    from localpersonalize.moto_compat import store_for

    return store_for("123456789012", "us-east-1").find(group_arn).extra["data"]
