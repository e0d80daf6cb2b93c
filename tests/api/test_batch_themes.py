"""Batch recommendations with themes (issue 7 §2; spec 30 §11.4; guide L13590-L13660): THEME_GENERATION
jobs of Similar-Items write a theme per group and re-rank its items by relevance; the preconditions."""

from __future__ import annotations


import boto3
import pytest

from localpersonalize.control import recipes, themes
from localpersonalize.errors import InvalidInputException

from ..helpers import client_error as _code
from .batch_world import ROLE, _jobs, build_catalogue, open_world, run_batch_job
from .runtime_world import genre_of

THEMES = {"batchInferenceJobMode": "THEME_GENERATION",
          "themeGenerationConfig": {"fieldsForThemeGeneration": {"itemName": "TITLE"}}}


@pytest.fixture(scope="module")
def world():
    with open_world(lambda: build_catalogue(("aws-similar-items", "aws-sims"))) as arns:
        yield arns


def run(world, lines, recipe="aws-similar-items", expect="ACTIVE", **kw):
    return run_batch_job("inference", world[recipe], lines, "themes", expect, **kw)


def test_each_group_gets_a_theme_from_its_metadata_and_items_ranked_by_relevance(world):
    plain = run(world, [{"itemId": "i0"}, {"itemId": "i4"}], numResults=10)
    themed = run(world, [{"itemId": "i0"}, {"itemId": "i4"}], numResults=10, **THEMES)
    for before, after in zip(plain, themed):
        out = after["output"]
        assert set(out) == {"recommendedItems", "theme", "itemsThemeRelevanceScores"}
        assert sorted(out["recommendedItems"]) == sorted(before["output"]["recommendedItems"])  # re-ranked only
        scores = out["itemsThemeRelevanceScores"]
        assert len(scores) == len(out["recommendedItems"]) and scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
    # similar items of i0 are mostly comedies: the theme names the genre and comedy words, comedies rank first
    out = themed[0]["output"]
    assert out["theme"].startswith("Comedy picks: ")
    assert set(out["theme"].split(": ")[1].split(" and ")) <= {"wedding", "full", "laughs", "old", "friends"}
    first = out["recommendedItems"][0]
    assert genre_of(int(first[1:])) == "Comedy"
    assert themed[1]["output"]["theme"].startswith("Drama picks: ")


def test_the_same_input_gives_the_same_themes(world):
    lines = [{"itemId": "i2"}, {"itemId": "i9"}]
    assert run(world, lines, **THEMES) == run(world, lines, **THEMES)


def test_more_than_100_input_items_fail_the_job(world):
    job = run(world, [{"itemId": f"i{k % 60}"} for k in range(101)], expect="CREATE FAILED", **THEMES)
    assert "at most 100" in job["failureReason"]


def _create(world, recipe="aws-similar-items", **kw):
    boto3.client("s3").put_object(Bucket="bucket", Key="themes-in/one.json", Body=b'{"itemId": "i1"}\n')
    return boto3.client("personalize").create_batch_inference_job(
        jobName=f"refused-{next(_jobs)}", solutionVersionArn=world[recipe], roleArn=ROLE,
        jobInput={"s3DataSource": {"path": "s3://bucket/themes-in/one.json"}},
        jobOutput={"s3DataDestination": {"path": "s3://bucket/themes-out/refused/"}}, **kw)


@pytest.mark.parametrize("recipe, kw, words", [
    ("aws-sims", THEMES, "Similar-Items"),
    ("aws-similar-items", {"batchInferenceJobMode": "THEME_GENERATION"}, "itemName"),
    ("aws-similar-items", dict(THEMES, themeGenerationConfig={"fieldsForThemeGeneration": {"itemName": "NAME"}}),
     "NAME"),
    ("aws-similar-items", dict(THEMES, themeGenerationConfig={"fieldsForThemeGeneration": {"itemName": "GENRE"}}),
     None),  # a categorical string column may hold names
    ("aws-similar-items", {"themeGenerationConfig": THEMES["themeGenerationConfig"]}, "THEME_GENERATION"),
])
def test_theme_preconditions_at_create(world, recipe, kw, words):
    if words is None:
        assert _create(world, recipe, **kw)["batchInferenceJobArn"]
        return
    code, message = _code(_create, world=world, recipe=recipe, **kw)
    assert code == "InvalidInputException" and words in message


def test_themes_only_in_the_content_generator_regions():
    with pytest.raises(InvalidInputException, match="eu-west-1"):
        themes.check_request("eu-west-1", recipes.SIMILAR_ITEMS, None, THEMES["themeGenerationConfig"])


def test_themes_need_a_textual_field(world):
    from localpersonalize.moto_compat import store_for

    data = store_for("123456789012", "us-east-1").find(world["group"]).extra["data"]
    schema = data.dataset("ITEMS").schema
    textual = [f for f in schema.fields if f.textual]
    try:
        for f in textual:
            object.__setattr__(f, "textual", False)
        with pytest.raises(InvalidInputException, match="textual"):
            themes.check_request("us-east-1", recipes.SIMILAR_ITEMS, data, THEMES["themeGenerationConfig"])
    finally:
        for f in textual:
            object.__setattr__(f, "textual", True)
