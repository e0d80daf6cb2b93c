"""Columns added by UpdateDataset are not trained on by the solutions and recommenders that existed before
(guide L16090, spec 40 §10): a new solution, or a recommender whose column config is updated, uses them."""

from __future__ import annotations

import json
import random

import boto3

from localpersonalize.control import training
from localpersonalize.data.datasets import DatasetGroupData
from localpersonalize.data.schemas import parse_schema

from ..helpers import wait_for
from .test_events import ROLE, make_group, schema_json

FIELDS = [{"name": "ITEM_ID", "type": "string"}, {"name": "G", "type": ["null", "string"], "categorical": True}]
BRAND = {"name": "BRAND", "type": ["null", "string"], "categorical": True}


def _import(p, s3, dataset, key, text, mode="FULL"):
    s3.put_object(Bucket="bucket", Key=key, Body=text.encode())
    arn = p.create_dataset_import_job(jobName=key.replace(".", "-"), datasetArn=dataset, roleArn=ROLE, importMode=mode,
                                      dataSource={"dataLocation": f"s3://bucket/{key}"})["datasetImportJobArn"]
    assert wait_for(lambda: p.describe_dataset_import_job(datasetImportJobArn=arn), "datasetImportJob")[
        "status"] == "ACTIVE"


def small_catalogue(p, s3, item_fields: list, users: int, rows: int, seed: int):
    """``(group ARN, {datasetType: dataset ARN})``: a group with Items (``item_fields``, empty) and
    Interactions (USER_ID, ITEM_ID, TIMESTAMP) holding ``rows`` random events of ``users`` users on items
    i1..i40, imported from the S3 bucket "bucket" (created here)."""
    s3.create_bucket(Bucket="bucket")
    interactions = schema_json("Interactions", [{"name": "USER_ID", "type": "string"},
                                                {"name": "ITEM_ID", "type": "string"},
                                                {"name": "TIMESTAMP", "type": "long"}])
    group, ids = make_group(p, (("Interactions", interactions), ("Items", schema_json("Items", item_fields))))
    rng = random.Random(seed)
    _import(p, s3, ids["Interactions"], "i.csv", "USER_ID,ITEM_ID,TIMESTAMP\n" + "".join(
        f"u{rng.randint(1, users)},i{rng.randint(1, 40)},{1_600_000_000 + k}\n" for k in range(rows)))
    return group, ids


def _similar_to_n1(p, rt, solution, name):
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    assert wait_for(lambda: p.describe_solution_version(solutionVersionArn=version), "solutionVersion")[
        "status"] == "ACTIVE"
    campaign = p.create_campaign(name=name, solutionVersionArn=version)["campaignArn"]
    wait_for(lambda: p.describe_campaign(campaignArn=campaign), "campaign")
    return [x["itemId"] for x in rt.get_recommendations(campaignArn=campaign, itemId="n1", numResults=5)["itemList"]]


def test_a_solution_created_before_update_dataset_does_not_train_on_the_new_column(personalize_mock):
    p, s3, rt = boto3.client("personalize"), boto3.client("s3"), boto3.client("personalize-runtime")
    group, ids = small_catalogue(p, s3, FIELDS, users=80, rows=3000, seed=2)
    # G says nothing (one value); the cold items n1..n5 have no interactions
    _import(p, s3, ids["Items"], "it.csv", "ITEM_ID,G\n" + "".join(f"{i},same\n" for i in
                                                                 [f"i{k}" for k in range(1, 41)] + ["n1"]))
    solutions = {}
    for name in ("before", "after"):
        if name == "after":  # BRAND: n1 has i33's brand, every other item its own
            new = p.create_schema(name="items-v2", schema=schema_json("Items", FIELDS + [BRAND]))["schemaArn"]
            p.update_dataset(datasetArn=ids["Items"], schemaArn=new)
            found = wait_for(lambda: p.describe_dataset(datasetArn=ids["Items"]), "dataset")
            while found["latestDatasetUpdate"]["status"] != "ACTIVE":
                found = p.describe_dataset(datasetArn=ids["Items"])["dataset"]
            _import(p, s3, ids["Items"], "it2.csv", "ITEM_ID,G,BRAND\n" + "".join(
                f"i{k},same,b{k}\n" for k in range(1, 41)) + "n1,same,b33\n", "INCREMENTAL")
        solutions[name] = p.create_solution(name=name, datasetGroupArn=group,
                                            recipeArn="arn:aws:personalize:::recipe/aws-similar-items")["solutionArn"]
        wait_for(lambda: p.describe_solution(solutionArn=solutions[name]), "solution")
    assert _similar_to_n1(p, rt, solutions["after"], "after")[0] == "i33"
    assert "i33" not in _similar_to_n1(p, rt, solutions["before"], "before")


def _items_group(fields):
    group = DatasetGroupData()
    group.create_dataset("Items", parse_schema(json.dumps({"type": "record", "name": "Items", "fields": fields})))
    return group


def test_without_new_columns_adds_the_columns_added_since_to_the_excluded_ones():
    known = training.metadata_columns(_items_group(FIELDS))
    assert known == {"ITEMS": ["ITEM_ID", "G"]}
    now = _items_group(FIELDS + [BRAND])
    config = {"eventValueThreshold": "1", "trainingDataConfig": {"excludedDatasetColumns": {"Items": ["G"]}}}
    assert training.without_new_columns(config, known, now) == {
        "eventValueThreshold": "1", "trainingDataConfig": {"excludedDatasetColumns": {"ITEMS": ["G", "BRAND"]}}}
    assert config["trainingDataConfig"]["excludedDatasetColumns"] == {"Items": ["G"]}  # not changed in place
    assert training.without_new_columns(config, training.metadata_columns(now), now) is config
    assert training.without_new_columns(None, {}, now) is None  # no Items dataset when it was created
