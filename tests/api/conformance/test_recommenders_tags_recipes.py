"""Conformance of recommenders, tags and the recipe catalogue, by operation."""

from __future__ import annotations

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN, TAGS51, quota, stepped
from .world import RECIPE

OPERATIONS = ["CreateRecommender", "DescribeRecommender", "ListRecommenders", "UpdateRecommender",
              "DeleteRecommender", "StopRecommender", "StartRecommender",
              "TagResource", "UntagResource", "ListTagsForResource",
              "ListRecipes", "DescribeRecipe", "DescribeAlgorithm", "DescribeFeatureTransformation"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in (
        "DescribeRecommender", "DeleteRecommender", "DescribeRecipe", "DescribeAlgorithm",
        "DescribeFeatureTransformation", "UntagResource", "ListTagsForResource")},
    ("ListRecommenders", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    **{(op, "ResourceInUseException"): "tags can be changed in every status of a resource"
       for op in ("TagResource", "UntagResource", "ListTagsForResource")},
    ("TagResource", "LimitExceededException"): "the tag limit answers TooManyTagsException",
    ("ListRecipes", "InvalidInputException"): "recipeProvider and domain are enums checked first (ValidationException)",
}
RECIPES = "arn:aws:personalize:::"


def recommender_in(w, status_fn):
    rec = w.recommender
    clock.set_pacing("stepped")
    status_fn(rec)
    return rec


CASES = [
    Case("CreateRecommender", lambda w: w.new_recommender("r", wait=False)),
    Case("CreateRecommender", lambda w: (w.recommender, w.new_recommender("recommender")),
         raises="ResourceAlreadyExistsException"),
    Case("CreateRecommender", lambda w: w.p.create_recommender(name="r", datasetGroupArn=w.missing("dataset-group"),
                                                               recipeArn=RECIPE + "aws-vod-top-picks"),
         raises="ResourceNotFoundException"),
    Case("CreateRecommender", stepped(lambda w: w.p.create_recommender(
        name="r", recipeArn=RECIPE + "aws-vod-top-picks",
        datasetGroupArn=w.p.create_dataset_group(name="n", domain="VIDEO_ON_DEMAND")["datasetGroupArn"])),
         raises="ResourceInUseException"),
    Case("CreateRecommender", lambda w: w.p.create_recommender(name="r", datasetGroupArn=w.group,
                                                               recipeArn=RECIPE + "aws-vod-top-picks"),
         raises="InvalidInputException", match="custom dataset group"),
    Case("CreateRecommender", quota("recommenders_per_dataset_group", 1, lambda w: (
        w.recommender, w.new_recommender("r2", wait=False))), raises="LimitExceededException"),
    Case("CreateRecommender", lambda w: w.new_recommender("r", wait=False, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeRecommender", lambda w: w.p.describe_recommender(recommenderArn=w.recommender),
         check=lambda r, w: "precision_at_10" in r["recommender"]["modelMetrics"]),
    Case("DescribeRecommender", lambda w: w.p.describe_recommender(recommenderArn=w.missing("recommender")),
         raises="ResourceNotFoundException"),
    Case("ListRecommenders", lambda w: (w.recommender, w.p.list_recommenders(datasetGroupArn=w.domain_group)),
         check=lambda r, w: [x["recommenderArn"] for x in r[1]["recommenders"]] == [w.recommender]),
    Case("ListRecommenders", lambda w: w.p.list_recommenders(nextToken="x"), raises="InvalidNextTokenException"),
    Case("UpdateRecommender", lambda w: w.p.update_recommender(
        recommenderArn=w.recommender, recommenderConfig={"minRecommendationRequestsPerSecond": 2})),
    Case("UpdateRecommender", lambda w: w.p.update_recommender(recommenderArn=w.missing("recommender"),
                                                               recommenderConfig={}),
         raises="ResourceNotFoundException"),
    Case("UpdateRecommender", lambda w: w.p.update_recommender(recommenderArn=recommender_in(
        w, lambda r: w.p.stop_recommender(recommenderArn=r)), recommenderConfig={}), raises="ResourceInUseException"),
    Case("UpdateRecommender", lambda w: w.p.update_recommender(recommenderArn=w.recommender, recommenderConfig={
        "trainingDataConfig": {"excludedDatasetColumns": {"INTERACTIONS": ["EVENT_TYPE"]}}}),
         raises="InvalidInputException", match="EVENT_TYPE"),
    Case("DeleteRecommender", lambda w: w.p.delete_recommender(recommenderArn=w.recommender)),
    Case("DeleteRecommender", lambda w: w.p.delete_recommender(recommenderArn=w.missing("recommender")),
         raises="ResourceNotFoundException"),
    Case("DeleteRecommender", lambda w: (w.domain_dataset, clock.set_pacing("stepped"),
                                         w.p.delete_recommender(recommenderArn=w.new_recommender("r", wait=False))),
         raises="ResourceInUseException"),
    Case("StopRecommender", lambda w: w.p.stop_recommender(recommenderArn=w.recommender),
         check=lambda r, w: r["recommenderArn"] == w.recommender),
    Case("StopRecommender", lambda w: w.p.stop_recommender(recommenderArn=w.missing("recommender")),
         raises="ResourceNotFoundException"),
    Case("StopRecommender", lambda w: w.p.stop_recommender(recommenderArn=recommender_in(
        w, lambda r: w.p.stop_recommender(recommenderArn=r))), raises="ResourceInUseException"),
    Case("StopRecommender", lambda w: (w.p.stop_recommender(recommenderArn=w.recommender),
                                       w.p.stop_recommender(recommenderArn=w.recommender)),
         raises="InvalidInputException", match="Only an ACTIVE recommender"),
    Case("StartRecommender", lambda w: (w.p.stop_recommender(recommenderArn=w.recommender),
                                        w.p.start_recommender(recommenderArn=w.recommender))),
    Case("StartRecommender", lambda w: w.p.start_recommender(recommenderArn=w.missing("recommender")),
         raises="ResourceNotFoundException"),
    Case("StartRecommender", lambda w: w.p.start_recommender(recommenderArn=recommender_in(
        w, lambda r: w.p.stop_recommender(recommenderArn=r))), raises="ResourceInUseException"),
    Case("StartRecommender", lambda w: w.p.start_recommender(recommenderArn=w.recommender),
         raises="InvalidInputException", match="Only an INACTIVE recommender"),
    # ----- tags
    Case("TagResource", lambda w: (w.p.tag_resource(resourceArn=w.group, tags=[{"tagKey": "a", "tagValue": "1"}]),
                                   w.p.tag_resource(resourceArn=w.group, tags=[{"tagKey": "a", "tagValue": "2"}])),
         check=lambda r, w: w.p.list_tags_for_resource(resourceArn=w.group)["tags"] == [{"tagKey": "a", "tagValue": "2"}]),
    Case("TagResource", lambda w: w.p.tag_resource(resourceArn=w.missing("campaign"), tags=[]),
         raises="ResourceNotFoundException"),
    Case("TagResource", lambda w: (w.p.tag_resource(resourceArn=w.group, tags=TAGS51[:50]),
                                   w.p.tag_resource(resourceArn=w.group, tags=TAGS51[50:])),
         raises="TooManyTagsException", match="at most 50 tags"),
    Case("TagResource", lambda w: w.p.tag_resource(resourceArn=w.group, tags=[{"tagKey": "aws:x", "tagValue": "1"}]),
         raises="InvalidInputException", match="aws:"),
    Case("UntagResource", lambda w: (w.p.tag_resource(resourceArn=w.schema, tags=[{"tagKey": "a", "tagValue": "1"}]),
                                     w.p.untag_resource(resourceArn=w.schema, tagKeys=["a", "b"])),
         check=lambda r, w: w.p.list_tags_for_resource(resourceArn=w.schema)["tags"] == []),
    Case("UntagResource", lambda w: w.p.untag_resource(resourceArn=w.missing("filter"), tagKeys=["a"]),
         raises="ResourceNotFoundException"),
    Case("UntagResource", lambda w: w.p.untag_resource(resourceArn=w.group, tagKeys=[f"k{i}" for i in range(51)]),
         raises="TooManyTagKeysException"),
    Case("ListTagsForResource", lambda w: w.p.list_tags_for_resource(resourceArn=w.p.create_dataset_group(
        name="t", tags=[{"tagKey": "Owner", "tagValue": "x"}])["datasetGroupArn"]),
         check=lambda r, w: r["tags"] == [{"tagKey": "Owner", "tagValue": "x"}]),
    Case("ListTagsForResource", lambda w: w.p.list_tags_for_resource(resourceArn=w.missing("recommender")),
         raises="ResourceNotFoundException"),
    # ----- recipes
    Case("ListRecipes", lambda w: w.p.list_recipes(domain="VIDEO_ON_DEMAND"),
         check=lambda r, w: {x["recipeArn"] for x in r["recipes"]} >= {RECIPES + "recipe/aws-vod-top-picks"}),
    Case("ListRecipes", lambda w: w.p.list_recipes(nextToken="x"), raises="InvalidNextTokenException"),
    Case("ListRecipes", lambda w: w.p.list_recipes(recipeProvider="SERVICE", domain="ECOMMERCE",
                                                   nextToken=w.p.list_recipes(maxResults=1)["nextToken"]),
         raises="InvalidNextTokenException", name="other-listing"),
    Case("ListRecipes", lambda w: w.p.list_recipes(recipeProvider="SERVICE", domain="NOPE"),
         raises="ValidationException", name="bad-domain"),
    Case("DescribeRecipe", lambda w: w.p.describe_recipe(recipeArn=RECIPES + "recipe/aws-sims"),
         check=lambda r, w: r["recipe"]["recipeType"] == "RELATED_ITEMS"),
    Case("DescribeRecipe", lambda w: w.p.describe_recipe(recipeArn=RECIPES + "recipe/aws-nope"),
         raises="ResourceNotFoundException"),
    Case("DescribeAlgorithm", lambda w: w.p.describe_algorithm(
        algorithmArn=w.p.describe_recipe(recipeArn=RECIPES + "recipe/aws-sims")["recipe"]["algorithmArn"])),
    Case("DescribeAlgorithm", lambda w: w.p.describe_algorithm(algorithmArn=RECIPES + "algorithm/aws-nope"),
         raises="ResourceNotFoundException"),
    Case("DescribeFeatureTransformation", lambda w: w.p.describe_feature_transformation(
        featureTransformationArn=w.p.describe_recipe(recipeArn=RECIPES + "recipe/aws-sims")["recipe"][
            "featureTransformationArn"])),
    Case("DescribeFeatureTransformation", lambda w: w.p.describe_feature_transformation(
        featureTransformationArn=RECIPES + "feature-transformation/nope"), raises="ResourceNotFoundException"),
]

test_conformance = cases_test(CASES)
