"""A promotion surfaces items added since the model was trained (spec 30 §10.4: "to surface new items with
User-Personalization-v2, promote by CREATION_TIMESTAMP"), newest first, after any the model ranks."""

from __future__ import annotations

import boto3

from ..helpers import wait_for
from .test_schema_replacement_training import _import, small_catalogue

ITEMS = [{"name": "ITEM_ID", "type": "string"}, {"name": "GENRE", "type": "string", "categorical": True},
         {"name": "CREATION_TIMESTAMP", "type": "long"}]


def test_a_promotion_of_new_items_promotes_the_items_the_model_never_saw(personalize_mock):
    p, s3 = boto3.client("personalize"), boto3.client("s3")
    rt, events = boto3.client("personalize-runtime"), boto3.client("personalize-events")
    group, ids = small_catalogue(p, s3, ITEMS, users=60, rows=2000, seed=3)
    _import(p, s3, ids["Items"], "it.csv", "ITEM_ID,GENRE,CREATION_TIMESTAMP\n" + "".join(
        f"i{k},Drama,1500000000\n" for k in range(1, 41)))
    solution = p.create_solution(name="up2", datasetGroupArn=group,
                                 recipeArn="arn:aws:personalize:::recipe/aws-user-personalization-v2")["solutionArn"]
    version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    assert wait_for(lambda: p.describe_solution_version(solutionVersionArn=version), "solutionVersion")[
        "status"] == "ACTIVE"
    campaign = p.create_campaign(name="c", solutionVersionArn=version)["campaignArn"]
    wait_for(lambda: p.describe_campaign(campaignArn=campaign), "campaign")
    events.put_items(datasetArn=ids["Items"], items=[
        {"itemId": f"new{k}", "properties": f'{{"genre": "Drama", "creationTimestamp": {1_700_000_000 + k}}}'}
        for k in range(3)])
    promo = p.create_filter(name="new", datasetGroupArn=group,
                            filterExpression="INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP > 1600000000")["filterArn"]
    wait_for(lambda: p.describe_filter(filterArn=promo), "filter")
    answer = rt.get_recommendations(campaignArn=campaign, userId="u1", numResults=10, promotions=[
        {"name": "just-in", "percentPromotedItems": 20, "filterArn": promo}])["itemList"]
    promoted = [i["itemId"] for i in answer if i.get("promotionName") == "just-in"]
    assert promoted == ["new2", "new1"] and len(answer) == 10   # 20 % of 10, the newest first
