"""``localpersonalize demo``: the guide's getting-started tutorial (custom dataset group, SDK for Python)
on the embedded MovieLens ml-latest-small ratings, through the real API, offline.

It uploads the ratings to (moto's) S3, creates the schema, dataset group, dataset and import job, trains
a User-Personalization-v2 solution version and a Popularity-Count baseline, deploys a campaign, and
prints the offline metrics of both (Personalize's holdout) and the top 10 recommendations of a few users
with movie titles, through a filter that drops the movies each user has already rated.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import time
from importlib import resources

DATA = resources.files("localpersonalize") / "demo_data"
REGION = "us-east-1"
SCHEMA = {
    "type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
               {"name": "TIMESTAMP", "type": "long"}],
    "version": "1.0",
}
METRICS = ("normalized_discounted_cumulative_gain_at_10", "precision_at_10", "mean_reciprocal_rank_at_25",
           "coverage")


def ratings_csv() -> bytes:
    """The embedded interactions CSV (``USER_ID,ITEM_ID,TIMESTAMP``; 100,836 rows)."""
    return gzip.decompress((DATA / "ratings.csv.gz").read_bytes())


def user_histories() -> dict[str, set[str]]:
    """userId -> the movieIds that user rated, from the embedded ratings."""
    seen: dict[str, set[str]] = {}
    for line in ratings_csv().decode().splitlines()[1:]:
        user, item, _ = line.split(",")
        seen.setdefault(user, set()).add(item)
    return seen


def movie_titles() -> dict[str, str]:
    """movieId -> title, from the embedded movies.csv."""
    text = gzip.decompress((DATA / "movies.csv.gz").read_bytes()).decode("utf-8")
    return {row["movieId"]: row["title"] for row in csv.DictReader(io.StringIO(text))}


def wait(describe, key: str, label: str, out) -> dict:
    """Poll ``describe()`` until ``[key]['status']`` is ACTIVE or CREATE FAILED, printing each new status."""
    started, seen = time.time(), None
    while True:
        found = describe()[key]
        status = found["status"]
        if status != seen:
            out.write(f"   {label:<32} {status:<20} {time.time() - started:6.2f} s\n")
            out.flush()
            seen = status
        if status == "CREATE FAILED":
            raise SystemExit(f"{label} failed: {found.get('failureReason')}")
        if status == "ACTIVE":
            return found
        time.sleep(0.05)


def run(out=sys.stdout) -> dict:
    """Run the tutorial flow; returns the metrics of both solution versions (for tests)."""
    import boto3

    from . import mock_personalize

    started = time.time()
    with mock_personalize():
        kw = dict(region_name=REGION, aws_access_key_id="demo", aws_secret_access_key="demo")
        s3 = boto3.client("s3", **kw)
        iam = boto3.client("iam", **kw)
        personalize = boto3.client("personalize", **kw)
        runtime = boto3.client("personalize-runtime", **kw)

        out.write("localpersonalize demo: the getting-started tutorial on MovieLens ml-latest-small, offline\n")
        s3.create_bucket(Bucket="demo-bucket")
        s3.put_object(Bucket="demo-bucket", Key="ratings.csv", Body=ratings_csv())
        role_arn = iam.create_role(RoleName="PersonalizeRole", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"Service": "personalize.amazonaws.com"}}]}),
        )["Role"]["Arn"]
        out.write("1. uploaded 100,836 interactions to s3://demo-bucket/ratings.csv\n")

        schema_arn = personalize.create_schema(name="demo-schema", schema=json.dumps(SCHEMA))["schemaArn"]
        group_arn = personalize.create_dataset_group(name="demo-movies")["datasetGroupArn"]
        dataset_arn = personalize.create_dataset(name="demo-interactions", schemaArn=schema_arn,
                                                 datasetGroupArn=group_arn, datasetType="Interactions")["datasetArn"]
        job_arn = personalize.create_dataset_import_job(
            jobName="demo-import", datasetArn=dataset_arn, roleArn=role_arn, importMode="FULL",
            dataSource={"dataLocation": "s3://demo-bucket/ratings.csv"})["datasetImportJobArn"]
        out.write("2. created schema, dataset group and dataset; importing\n")
        wait(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job_arn), "datasetImportJob",
             "dataset import job", out)

        out.write("3. training solution versions\n")
        versions = {}
        for name, recipe in (("demo-user-personalization-v2", "aws-user-personalization-v2"),
                             ("demo-popularity-baseline", "aws-popularity-count")):
            solution_arn = personalize.create_solution(
                name=name, datasetGroupArn=group_arn, recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
                performAutoTraining=False)["solutionArn"]
            version_arn = personalize.create_solution_version(solutionArn=solution_arn)["solutionVersionArn"]
            versions[recipe] = version_arn
            wait(lambda: personalize.describe_solution_version(solutionVersionArn=version_arn), "solutionVersion",
                 recipe, out)

        found = {recipe: personalize.get_solution_metrics(solutionVersionArn=arn)["metrics"]
                 for recipe, arn in versions.items()}
        out.write("\n   offline metrics (Personalize's holdout: 10% of users, newest 10% of their events)\n")
        out.write(f"   {'metric':<46}" + "".join(f"{r:>30}" for r in found) + "\n")
        for m in METRICS:
            out.write(f"   {m:<46}" + "".join(f"{found[r][m]:>30.4f}" for r in found) + "\n")

        out.write("\n4. deploying a campaign and asking it for recommendations\n")
        campaign_arn = personalize.create_campaign(
            name="demo-campaign", solutionVersionArn=versions["aws-user-personalization-v2"])["campaignArn"]
        wait(lambda: personalize.describe_campaign(campaignArn=campaign_arn), "campaign", "campaign", out)

        # The guide's way to leave out what a user already saw: an EXCLUDE filter on every event type ("*").
        filter_arn = personalize.create_filter(
            name="demo-unseen", datasetGroupArn=group_arn,
            filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")')["filterArn"]
        wait(lambda: personalize.describe_filter(filterArn=filter_arn), "filter", "filter (unseen movies)", out)

        titles, seen = movie_titles(), user_histories()
        out.write('   with the filter EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*"): movies the user has\n'
                  "   not rated (filters look at a user's 100 most recent events per event type, as the service\n"
                  "   does; * would mark an older rating showing up)\n")
        for user in ("1", "123", "414"):
            items = runtime.get_recommendations(campaignArn=campaign_arn, userId=user, numResults=10,
                                                filterArn=filter_arn)["itemList"]
            out.write(f"\n   top 10 for user {user} ({len(seen[user])} movies rated):\n")
            for rank, item in enumerate(items, 1):
                mark = "*" if item["itemId"] in seen[user] else " "
                out.write(f"   {rank:>3}. {mark} {titles.get(item['itemId'], item['itemId'])[:58]:<58} "
                          f"score {item['score']:.6f}\n")
    out.write(f"\ndone in {time.time() - started:.1f} s\n")
    return found


def main() -> int:
    run()
    return 0
