"""personalize-runtime: GetRecommendations, GetPersonalizedRanking, GetActionRecommendations
(spec 30 §10, spec 50 §1, §5-§7; guide "Getting real-time recommendations" L12483-L13100).

A request goes: the campaign/recommender and what it serves (:class:`Served`) → the request's inputs
checked against the recipe (``Recipe.input``) → the user's history (the current data for recipes that
react in real time, ``Recipe.realtime``; the training snapshot otherwise) → a boolean mask of eligible
items (the domain use case's automatic exclusion, the request filter, the promotion filter; see
:mod:`localpersonalize.filters`) → the engine's ranking with that mask → the answer (scores where the
recipe gives them, promotions placed and labelled, item metadata).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from .. import filters
from ..control import recipes, training
from ..control.lifecycle import ACTIVE
from ..errors import InvalidInputException, NotImplementedOperation
from . import operation
from .campaigns import deployed_version
from .solutions import recipe_for

#: numResults limits (GetRecommendations model doc; spec 30 §10.1, §10.5).
MAX_RESULTS, MAX_RESULTS_WITH_METADATA, DEFAULT_RESULTS = 500, 50, 25
MAX_ACTION_RESULTS, DEFAULT_ACTION_RESULTS = 100, 5
#: inputList limits of GetPersonalizedRanking (model doc of inputList).
MAX_INPUT_LIST, MAX_INPUT_LIST_WITH_METADATA = 500, 50
#: Columns one request may ask for in metadataColumns (model doc).
MAX_METADATA_COLUMNS = 10
#: Recipes that offer metadata in recommendations without enabling it (guide L12207).
METADATA_BUILT_IN = ("aws-user-personalization-v2", "aws-personalized-ranking-v2")
#: Recipes whose items carry a ``reason`` list (PredictedItem.reason doc; guide L12560-L12566).
REASON_RECIPES = ("aws-user-personalization-v2",)
PROMOTED_REASON = "Promoted item"
#: Recipe types that accept promotions besides every domain use case (guide L12776-L12790).
PROMOTION_RECIPE_TYPES = (recipes.USER_PERSONALIZATION, recipes.RELATED_ITEMS, recipes.POPULAR_ITEMS)


@dataclass
class Served:
    """What a runtime request is answered from.

    ``recipe``: the catalogue :class:`~..control.recipes.Recipe`; ``trained``: the
    :class:`~..control.training.TrainedModel`; ``data``: the dataset group's ``DatasetGroupData``;
    ``group_arn``: its ARN; ``config``: the campaignConfig / recommenderConfig.
    """

    recipe: object
    trained: object
    data: object
    group_arn: str
    config: dict

    @property
    def n_items(self) -> int:
        return self.trained.n_items


def _served(ctx, p, what_ops: str) -> Served:
    """The campaign or recommender of a request.

    Raises InvalidInputException when neither or both are given, or when it does not exist or is not
    ACTIVE (an INACTIVE recommender cannot serve; spec 30 §14), and when the recipe is served by
    another runtime operation than ``what_ops`` (spec 30 §10: the recipe type decides the operation).
    """
    store = ctx.store
    campaign_arn, recommender_arn = p.get("campaignArn"), p.get("recommenderArn")
    if bool(campaign_arn) == bool(recommender_arn):
        raise InvalidInputException("Provide exactly one of campaignArn or recommenderArn.")
    with store.lock:
        what = "Campaign" if campaign_arn else "Recommender"
        res = store.find(campaign_arn or recommender_arn)
        if res is None or res.kind != what.lower() or res.status != ACTIVE:
            raise InvalidInputException(f"{what} {campaign_arn or recommender_arn} does not exist or is not active yet.")
        if campaign_arn:
            version = deployed_version(store, res)
            trained, group_arn = version.extra["trained"], version.record["datasetGroupArn"]
            recipe, config = recipe_for(version.record["recipeArn"]), res.record.get("campaignConfig") or {}
        else:
            trained, group_arn = res.extra["trained"], res.record["datasetGroupArn"]
            recipe, config = recipe_for(res.record["recipeArn"]), res.record.get("recommenderConfig") or {}
        data = store.find(group_arn).extra["data"]
    if recipe.input.api != what_ops:
        raise InvalidInputException(
            f"{what} {campaign_arn or recommender_arn} serves {recipe.name} ({recipe.recipe_type}), which is "
            f"called through {recipe.input.api or 'batch segment jobs'}, not {what_ops}.")
    return Served(recipe, trained, data, group_arn, config)


def _require_inputs(served: Served, p) -> None:
    """``userId``/``itemId`` required per recipe and use case (``Recipe.input``; spec 20 §C, §E)."""
    for key, need in (("userId", served.recipe.input.user_id), ("itemId", served.recipe.input.item_id)):
        if need == recipes.REQUIRED and not p.get(key):
            raise InvalidInputException(f"{key} is required for {served.recipe.name} ({served.recipe.recipe_type}).")


def _filter_mask(ctx, served: Served, filter_arn: str, filter_values, p, n: int, target: str = "ItemID"):
    """bool[n] of the IDs a filter lets through for this request (spec 50 §5).

    Raises ResourceNotFoundException (unknown filter), InvalidInputException (not ACTIVE, another dataset
    group, another kind of IDs, CurrentItem outside related-items recipes; a missing INCLUDE parameter).
    """
    res = ctx.store.get("filter", filter_arn)
    if res.status != ACTIVE:
        raise InvalidInputException(f"The filter {filter_arn} is not ACTIVE (status: {res.status}).")
    if res.parent != served.group_arn:
        raise InvalidInputException(f"The filter {filter_arn} belongs to another dataset group than {served.group_arn}.")
    expr = res.extra["expression"]
    if expr.target != target:
        raise InvalidInputException(f"The filter {filter_arn} filters {expr.target}s; this request needs a {target} filter.")
    if expr.uses_current_item and served.recipe.recipe_type != recipes.RELATED_ITEMS:
        raise InvalidInputException(
            f"The filter {filter_arn} uses CurrentItem, which only related-items recipes and use cases support.")
    return filters.allowed_mask(expr, served.data, n, user_id=p.get("userId"), item_id=p.get("itemId"),
                                filter_values=filter_values)


def _metadata_columns(served: Served, p) -> list[str] | None:
    """The Items columns of ``metadataColumns``, checked; None when the request asks for none.

    Raises InvalidInputException when metadata is not enabled on the campaign/recommender (built in for
    the -v2 recipes, guide L12207), for a key other than ITEMS, more than 10 columns, no Items dataset
    or a column the Items schema lacks.
    """
    wanted = p.get("metadataColumns")
    if not wanted:
        return None
    if not (served.config.get("enableMetadataWithRecommendations") or served.recipe.name in METADATA_BUILT_IN):
        raise InvalidInputException(
            "metadataColumns needs metadata in recommendations: set enableMetadataWithRecommendations to true "
            "in the campaignConfig (recommenderConfig).")
    if set(wanted) != {"ITEMS"}:
        raise InvalidInputException(f"metadataColumns takes the key ITEMS only; got {', '.join(sorted(wanted))}.")
    columns = wanted["ITEMS"]
    if len(columns) > MAX_METADATA_COLUMNS:
        raise InvalidInputException(f"metadataColumns can name at most {MAX_METADATA_COLUMNS} columns; got {len(columns)}.")
    ds = served.data.dataset("ITEMS")
    if ds is None:
        raise InvalidInputException("metadataColumns needs an Items dataset in the dataset group.")
    missing = [c for c in columns if ds.schema.field(c) is None]
    if missing:
        raise InvalidInputException(f"The Items dataset has no column {', '.join(missing)}.")
    return list(columns)


def _metadata(data, codes: np.ndarray, columns: list[str]) -> list[dict]:
    """``metadata`` maps (column -> string value, nulls left out) of the items ``codes`` from the Items
    dataset; an item without an Items row gets an empty map."""
    ds = data.dataset("ITEMS")
    row_of = np.full(len(data.items) + 1, -1, np.int64)
    row_of[ds.codes("ITEM_ID")] = np.arange(ds.n_rows)
    rows = row_of[codes]
    out = [{} for _ in codes]
    for c in columns:
        values, nulls = ds.column(c), ds.null_mask(c)
        ftype = ds.schema.field(c).type
        for k, r in enumerate(rows):
            if r < 0 or nulls[r] or values[r] is None or (ftype in ("float", "double") and values[r] != values[r]):
                continue
            v = values[r]
            out[k][c] = str(v).lower() if ftype == "boolean" else (str(int(v)) if ftype in ("int", "long") else str(v))
    return out


def _history(served: Served, user_id: str | None) -> np.ndarray:
    """The user's history the model folds in: every event up to now (bulk and streamed) for recipes that
    react in real time, the training snapshot for the others (spec 20 §B.1, spec 30 §10)."""
    if served.recipe.realtime:
        return training.user_history(served.data, user_id, served.n_items)
    return training.user_history_at_training(served.trained, served.data, user_id)


def _base_mask(served: Served, user_id: str | None) -> np.ndarray:
    """bool[n_items]: items the recipe may recommend before any filter — all, minus what a domain use case
    drops by itself (the user's 100 most recent events per excluded event type, guide L6165)."""
    mask = np.ones(served.n_items, bool)
    if served.recipe.excludes_seen_event_types and user_id:
        seen = filters.recent_targets(served.data, user_id, served.recipe.excludes_seen_event_types)
        mask[seen[seen < served.n_items]] = False
    return mask


def _top(served: Served, history: np.ndarray, item_code: int | None, k: int, allowed: np.ndarray):
    """The model's top ``k`` items among ``allowed`` (bool[n_items]): (codes int32[k'], scores float64[k']).

    Related-items recipes rank by similarity to the request item; an item the model never saw gets the
    popularity ranking (cold start, spec 70 §7.3), as an unknown user does.
    """
    model = served.trained.model
    if k <= 0 or not allowed.any():
        return np.empty(0, np.int32), np.empty(0)
    if item_code is not None and 0 <= item_code < served.n_items:
        fetch = min(served.n_items, k + int(np.count_nonzero(~allowed)))
        items, scores = model.similar_items(item_code, fetch)
        keep = allowed[items]
        return items[keep][:k], scores[keep][:k]
    if item_code is not None:
        history = np.empty(0, np.int32)
    exclude = None if allowed.all() else np.flatnonzero(~allowed)
    return model.recommend(history, k, exclude=exclude)


def _predicted(served: Served, codes, scores, columns, promotion: str | None = None) -> list[dict]:
    """PredictedItem dicts: ``score`` only for recipes that give scores (guide L12553), ``promotionName``
    and the "Promoted item" reason (UP-v2) on promoted items, ``metadata`` when asked for."""
    ids = served.data.items.ids
    out = []
    for code, score in zip(codes, scores):
        item = {"itemId": ids[code]}
        if served.recipe.returns_scores:
            item["score"] = round(float(score), 7)
        if promotion is not None:
            item["promotionName"] = promotion
            if served.recipe.name in REASON_RECIPES:
                item["reason"] = [PROMOTED_REASON]
        out.append(item)
    if columns is not None:
        for item, meta in zip(out, _metadata(served.data, np.asarray(codes, np.int64), columns)):
            item["metadata"] = meta
    return out


def _recommendation_id() -> str:
    return f"RID-{uuid.uuid4()}"


def _place_promoted(rest: list, promoted: list, rid: str) -> list:
    """Promoted items at random positions among the others, keeping their own order (guide L12760);
    the positions are drawn from the recommendation ID, so an answer can be replayed."""
    total = len(rest) + len(promoted)
    rng = np.random.default_rng(uuid.UUID(rid[4:]).int % (2 ** 63))
    slots = set(np.sort(rng.choice(total, size=len(promoted), replace=False)).tolist())
    promoted_it, rest_it = iter(promoted), iter(rest)
    return [next(promoted_it) if i in slots else next(rest_it) for i in range(total)]


@operation("GetRecommendations")
def get_recommendations(ctx, p):
    served = _served(ctx, p, recipes.GET_RECOMMENDATIONS)
    _require_inputs(served, p)
    columns = _metadata_columns(served, p)
    k = p.get("numResults", DEFAULT_RESULTS)
    limit = MAX_RESULTS if columns is None else MAX_RESULTS_WITH_METADATA
    if k > limit:
        raise InvalidInputException(f"numResults must be at most {limit}{'' if columns is None else ' with metadataColumns'}.")
    user_id = p.get("userId")
    item_code = None
    if served.recipe.input.item_id == recipes.REQUIRED:
        item_code = served.data.items.code(p["itemId"], add=False)
    history = _history(served, user_id)
    base = _base_mask(served, user_id)
    rest_mask = base
    if p.get("filterArn"):
        rest_mask = base & _filter_mask(ctx, served, p["filterArn"], p.get("filterValues"), p, served.n_items)
    rid = _recommendation_id()
    promotions = p.get("promotions") or []
    if not promotions:
        codes, scores = _top(served, history, item_code, k, rest_mask)
        return {"itemList": _predicted(served, codes, scores, columns), "recommendationId": rid}

    promo = promotions[0]
    if not (served.recipe.is_domain_use_case or served.recipe.recipe_type in PROMOTION_RECIPE_TYPES):
        raise InvalidInputException(f"Promotions are not supported by {served.recipe.name}.")
    wanted = max(1, k * promo["percentPromotedItems"] // 100) if k else 0
    promo_mask = base & _filter_mask(ctx, served, promo["filterArn"], promo.get("filterValues"), p, served.n_items)
    p_codes, p_scores = _top(served, history, item_code, wanted, promo_mask)
    rest_mask = rest_mask.copy()
    rest_mask[p_codes] = False
    codes, scores = _top(served, history, item_code, k - len(p_codes), rest_mask)
    items = _place_promoted(_predicted(served, codes, scores, columns),
                            _predicted(served, p_codes, p_scores, columns, promotion=promo["name"]), rid)
    return {"itemList": items, "recommendationId": rid}


@operation("GetPersonalizedRanking")
def get_personalized_ranking(ctx, p):
    served = _served(ctx, p, recipes.GET_PERSONALIZED_RANKING)
    columns = _metadata_columns(served, p)
    limit = MAX_INPUT_LIST if columns is None else MAX_INPUT_LIST_WITH_METADATA
    if len(p["inputList"]) > limit:
        raise InvalidInputException(
            f"inputList can hold at most {limit} items{'' if columns is None else ' with metadataColumns'}; "
            f"got {len(p['inputList'])}.")
    data = served.data
    inputs = list(dict.fromkeys(p["inputList"]))
    codes = data.items.codes(inputs, add=False)
    if p.get("filterArn"):  # one extra slot stands for items the dataset group has never seen
        mask = _filter_mask(ctx, served, p["filterArn"], p.get("filterValues"), p, len(data.items) + 1)
        keep = mask[np.where(codes >= 0, codes, len(data.items))]
        inputs, codes = [i for i, ok in zip(inputs, keep) if ok], codes[keep]
    trained = (codes >= 0) & (codes < served.n_items)
    known = codes[trained]
    scores = served.trained.model.score(_history(served, p["userId"]), known) if len(known) else np.empty(0)
    order = np.lexsort((np.arange(len(known)), -scores))
    out = _predicted(served, known[order], scores[order], columns)
    # Items the model never saw go last, in input order: score 0 for v1, no score for v2 (spec 70 §0, §1.4).
    unknown = [i for i, ok in zip(inputs, trained) if not ok]
    for item_id in unknown:
        entry = {"itemId": item_id}
        if served.recipe.name == "aws-personalized-ranking":
            entry["score"] = 0.0
        if columns is not None:
            code = data.items.code(item_id, add=False)
            entry["metadata"] = _metadata(data, np.array([code]), columns)[0] if code >= 0 else {}
        out.append(entry)
    return {"personalizedRanking": out, "recommendationId": _recommendation_id()}


@operation("GetActionRecommendations")
def get_action_recommendations(ctx, p):
    k = p.get("numResults", DEFAULT_ACTION_RESULTS)
    if k > MAX_ACTION_RESULTS:
        raise InvalidInputException(f"numResults must be at most {MAX_ACTION_RESULTS}.")
    _served(ctx, p, recipes.GET_ACTION_RECOMMENDATIONS)
    raise NotImplementedOperation(
        "GetActionRecommendations: localpersonalize has no Next-Best-Action engine yet, so no campaign can "
        "serve action recommendations.")
