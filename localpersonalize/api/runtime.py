"""personalize-runtime: GetRecommendations and GetPersonalizedRanking (spec 30 §10)."""

from __future__ import annotations

import uuid

import numpy as np

from ..control import recipes, training
from ..control.lifecycle import ACTIVE
from ..errors import InvalidInputException
from . import operation
from .campaigns import deployed_version
from .solutions import recipe_for


def _served(ctx, p):
    """(recipe, trained model, dataset group data) behind a request's campaign or recommender.

    Raises InvalidInputException when neither or both are given, or when the campaign/recommender does
    not exist or is not ACTIVE (what the service answers, spec 30 "ARN formats" note).
    """
    store = ctx.store
    campaign_arn, recommender_arn = p.get("campaignArn"), p.get("recommenderArn")
    if bool(campaign_arn) == bool(recommender_arn):
        raise InvalidInputException("Provide exactly one of campaignArn or recommenderArn.")
    with store.lock:
        if campaign_arn:
            res = store.find(campaign_arn)
            what = "Campaign"
        else:
            res = store.find(recommender_arn)
            what = "Recommender"
        if res is None or res.kind != what.lower() or res.status != ACTIVE:
            raise InvalidInputException(f"{what} {campaign_arn or recommender_arn} does not exist or is not active yet.")
        if campaign_arn:
            version = deployed_version(store, res)
            trained = version.extra["trained"]
            group = store.find(version.record["datasetGroupArn"])
        else:
            trained = res.extra["trained"]
            group = store.find(res.record["datasetGroupArn"])
        recipe = recipe_for(res.record.get("recipeArn") or version.record["recipeArn"])
    return recipe, trained, group.extra["data"]


def _item_list(group_data, items: np.ndarray, scores: np.ndarray | None) -> list[dict]:
    ids = group_data.items.ids
    if scores is None:
        return [{"itemId": ids[i]} for i in items]
    return [{"itemId": ids[i], "score": round(float(s), 7)} for i, s in zip(items, scores)]


def _recommendation_id() -> str:
    return f"RID-{uuid.uuid4()}"


@operation("GetRecommendations")
def get_recommendations(ctx, p):
    recipe, trained, data = _served(ctx, p)
    if recipe.recipe_type == "PERSONALIZED_RANKING":
        raise InvalidInputException("This campaign uses a PERSONALIZED_RANKING recipe: call GetPersonalizedRanking.")
    k = p.get("numResults", 25)
    if k > 500:
        raise InvalidInputException("numResults must be at most 500.")
    if recipe.input.item_id == recipes.REQUIRED:
        if not p.get("itemId"):
            raise InvalidInputException(f"itemId is required for {recipe.name}.")
        item = data.items.code(p["itemId"], add=False)
        if not 0 <= item < trained.n_items:
            items, scores = trained.model.recommend(np.empty(0, np.int32), k)
        else:
            items, scores = trained.model.similar_items(item, k)
    else:
        if recipe.input.user_id == recipes.REQUIRED and not p.get("userId"):
            raise InvalidInputException(f"userId is required for {recipe.name}.")
        history = training.user_history(data, p.get("userId"), trained.n_items)
        exclude = None
        if recipe.excludes_seen_event_types:  # e.g. Top picks never recommends what the user watched
            exclude = training.user_history(data, p.get("userId"), trained.n_items, recipe.excludes_seen_event_types)
        items, scores = trained.model.recommend(history, k, exclude=exclude)
    return {"itemList": _item_list(data, items, scores if recipe.returns_scores else None),
            "recommendationId": _recommendation_id()}


@operation("GetPersonalizedRanking")
def get_personalized_ranking(ctx, p):
    recipe, trained, data = _served(ctx, p)
    if recipe.recipe_type != "PERSONALIZED_RANKING":
        raise InvalidInputException("GetPersonalizedRanking needs a campaign with a PERSONALIZED_RANKING recipe.")
    history = training.user_history(data, p["userId"], trained.n_items)
    known, unknown = [], []
    for item_id in dict.fromkeys(p["inputList"]):
        code = data.items.code(item_id, add=False)
        (known if 0 <= code < trained.n_items else unknown).append((item_id, code))
    scores = trained.model.score(history, np.array([c for _, c in known], np.int32)) if known else []
    ranked = sorted(zip(known, scores), key=lambda pair: -pair[1])
    out = [{"itemId": item_id, "score": round(float(s), 7)} for (item_id, _), s in ranked]
    out += [{"itemId": item_id} for item_id, _ in unknown]  # unknown items go last, without a score
    return {"personalizedRanking": out, "recommendationId": _recommendation_id()}
