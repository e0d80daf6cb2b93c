"""Acceptance of issue 2: the guide's two getting-started tutorials run unmodified against
localpersonalize, in-process (``mock_personalize``) and against a live ``localpersonalize serve``, on the
real ml-latest-small ratings, and reach real recommendations."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

from localpersonalize import mock_personalize

from ..helpers import movielens_ratings

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "personalize.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def prerequisites(domain: bool) -> dict:
    """The tutorials' prerequisites: the prepared ratings in an S3 bucket and a service role."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="tutorial-bucket")
    s3.put_object(Bucket="tutorial-bucket", Key="ratings.csv", Body=movielens_ratings(domain))
    role = boto3.client("iam").create_role(RoleName="PersonalizeRole", AssumeRolePolicyDocument=ROLE_POLICY)
    return {"BUCKET": "tutorial-bucket", "ROLE_ARN": role["Role"]["Arn"]}


def run_tutorial(name: str, domain: bool, monkeypatch) -> dict:
    """Run a tutorial script; the reader shortens its 60 s sleeps between polls to 0.05 s."""
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda s: real_sleep(min(s, 0.05)))
    return runpy.run_path(str(TUTORIALS / name), init_globals=prerequisites(domain))


def check_custom(result: dict) -> None:
    items = result["response"]["itemList"]
    assert len(items) == 10
    assert all(0 < item["score"] <= 1 for item in items)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    personalize = boto3.client("personalize")
    version = personalize.describe_solution_version(solutionVersionArn=result["solution_version_arn"])
    assert version["solutionVersion"]["status"] == "ACTIVE"
    metrics = personalize.get_solution_metrics(solutionVersionArn=result["solution_version_arn"])["metrics"]
    assert metrics["normalized_discounted_cumulative_gain_at_10"] > 0.05
    # personal: another user with a different history gets a different list
    other = boto3.client("personalize-runtime").get_recommendations(campaignArn=result["arn"], userId="1",
                                                                     numResults=10)["itemList"]
    assert [i["itemId"] for i in other] != [i["itemId"] for i in items]


def check_domain(result: dict) -> None:
    items = result["response"]["itemList"]
    assert len(items) == 25  # numResults defaults to 25
    assert all("score" not in item for item in items)  # domain recommenders return no scores
    watched = {line.split(", ")[1] for line in movielens_ratings(True).decode().splitlines()[1:]
               if line.startswith("123, ")}
    assert not watched & {i["itemId"] for i in items}  # Top picks excludes what the user watched
    recommender = boto3.client("personalize").describe_recommender(recommenderArn=result["recommender_arn"])
    assert recommender["recommender"]["modelMetrics"]["precision_at_10"] > 0


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(scope="module")
def server():
    """A live ``python -m localpersonalize serve --port 0``; yields its endpoint URL."""
    proc = subprocess.Popen([sys.executable, "-m", "localpersonalize", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:  # the endpoint is announced before serving; warnings may come first
        seen.append(line)
        if " at http://127.0.0.1:" in line:
            break
    assert seen and " at http://127.0.0.1:" in seen[-1], "".join(seen)
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining the server's output
    yield seen[-1].split(" at ", 1)[1].strip()
    proc.terminate()
    proc.wait(10)


def test_custom_tutorial_in_process(aws_env, monkeypatch):
    with mock_personalize():
        check_custom(run_tutorial("custom_tutorial.py", False, monkeypatch))


def test_domain_tutorial_in_process(aws_env, monkeypatch):
    with mock_personalize():
        check_domain(run_tutorial("domain_tutorial.py", True, monkeypatch))


def test_custom_tutorial_against_server(aws_env, server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    check_custom(run_tutorial("custom_tutorial.py", False, monkeypatch))
    boto3.client("s3").list_buckets()  # S3 is served on the same port


def test_domain_tutorial_against_server(aws_env, server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    requests_reset = __import__("urllib.request").request
    requests_reset.urlopen(requests_reset.Request(server + "/moto-api/reset", method="POST"))
    check_domain(run_tutorial("domain_tutorial.py", True, monkeypatch))
