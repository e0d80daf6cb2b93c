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

import numpy as np

from ..control import attribution, recipes, serving
from ..control.serving import Served
from ..control.lifecycle import ACTIVE
from ..control.memo import WeakLRU
from ..errors import InvalidInputException
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
#: Recipe types that accept promotions besides every domain use case (guide L12776-L12790).
PROMOTION_RECIPE_TYPES = (recipes.USER_PERSONALIZATION, recipes.RELATED_ITEMS, recipes.POPULAR_ITEMS)


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
    """bool[n] of a filter for this request (serving.filter_mask with the request's IDs)."""
    return serving.filter_mask(ctx.store, served, filter_arn, filter_values, user_id=p.get("userId"),
                               item_id=p.get("itemId"), n=n, target=target)


#: Eligible-item masks kept by :data:`_MASKS` (least recently used dropped first).
MASK_CACHE_SIZE = 64


class _MaskCache(WeakLRU):
    """The eligible mask of a GetRecommendations without promotions (the recipe's own exclusions and the
    request filter, ``serving.base_mask & serving.filter_mask``), kept for repeat requests.

    The mask is a deterministic function of the recipe, the user and item IDs (the user only when a filter
    or the recipe's exclusions read it), the filter's compiled expression (checked on every request: a
    deleted or inactive filter still fails) with its ``filterValues``, and the dataset group's data. The
    data enter the key as every dataset's row count and the identity of its first column (every append,
    upsert or deletion renews a dataset's column arrays, which serving's statistics caches rely on as well)
    plus the sizes of the ID indexes; entries hold weak references to those arrays, so an identity reused
    after they are freed never matches (WeakLRU). Masks are returned read-only: the same array serves
    again, and the answer cache's digest of it is remembered."""

    def __init__(self, size: int = MASK_CACHE_SIZE):
        super().__init__(size)

    def eligible(self, ctx, served: Served, p, n: int) -> np.ndarray:
        """bool[n] (read-only) of the items this request may get before exploration and promotions.
        Raises what serving.filter_mask raises."""
        user_id, filter_arn = p.get("userId"), p.get("filterArn")
        expr = serving.filter_expression(ctx.store, served, filter_arn) if filter_arn else None
        values = p.get("filterValues")
        state, columns = [len(served.data.items), len(served.data.users)], []
        for kind, ds in sorted(served.data.datasets.items()):
            col = ds.codes(ds.schema.fields[0].name)
            state.append((kind, id(col), ds.n_rows))
            columns.append(col)
        per_user = expr is not None or bool(served.recipe.excludes_seen_event_types)
        key = (served.group_arn, served.recipe.name, user_id if per_user else None, p.get("itemId"), filter_arn,
               tuple(sorted(values.items())) if values else None, n, tuple(state))
        hit = self.get(key)
        if hit is not None and hit[1] is expr:
            return hit[0]
        mask = serving.base_mask(served, user_id, n)
        if expr is not None:
            mask = mask & _filter_mask(ctx, served, filter_arn, values, p, n)
        mask.flags.writeable = False
        self.put(key, (mask, expr), columns)
        return mask


_MASKS = _MaskCache()


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


def _read_pinned(what_ops: str):
    """The handler of a runtime operation: its campaign or recommender resolved (:func:`_served`), then the
    body run inside the dataset group's ``reading()``, so a request sees one moment of the group's data
    while Put* calls and imports go on in other threads."""
    def wrap(body):
        def handler(ctx, p):
            served = _served(ctx, p, what_ops)
            with served.data.reading():
                return body(ctx, p, served)
        handler.__name__, handler.__doc__ = body.__name__, body.__doc__
        return handler
    return wrap


@operation("GetRecommendations")
@_read_pinned(recipes.GET_RECOMMENDATIONS)
def get_recommendations(ctx, p, served):
    _require_inputs(served, p)
    columns = _metadata_columns(served, p)
    k = p.get("numResults", DEFAULT_RESULTS)
    limit = MAX_RESULTS if columns is None else MAX_RESULTS_WITH_METADATA
    if k > limit:
        raise InvalidInputException(f"numResults must be at most {limit}{'' if columns is None else ' with metadataColumns'}.")
    user_id, context = p.get("userId"), p.get("context")
    item_code = None
    if served.recipe.input.item_id == recipes.REQUIRED:
        item_code = served.data.items.code(p["itemId"], add=False)
    n = served.n_catalogue
    promotions = p.get("promotions") or []
    if promotions:
        base = serving.base_mask(served, user_id, n)
        rest_mask = base
        if p.get("filterArn"):
            rest_mask = base & _filter_mask(ctx, served, p["filterArn"], p.get("filterValues"), p, n)
    else:
        rest_mask = _MASKS.eligible(ctx, served, p, n)
    rid = _recommendation_id()
    attribution.record_recommendation(ctx.store, rid, p.get("campaignArn") or p.get("recommenderArn"))
    if not promotions:
        ranked = serving.recommend_codes(served, user_id, k, rest_mask, item_code=item_code, context=context)
        serving.record_impressions(served.data, rid, ranked.codes)
        return {"itemList": serving.predicted(served, ranked, columns), "recommendationId": rid}

    promo = promotions[0]
    if not (served.recipe.is_domain_use_case or served.recipe.recipe_type in PROMOTION_RECIPE_TYPES):
        raise InvalidInputException(f"Promotions are not supported by {served.recipe.name}.")
    missing = [m for m in ("name", "percentPromotedItems", "filterArn") if m not in promo]
    if missing:  # optional in the model's shape, but a promotion is its name, share and filter (spec 50 §7)
        raise InvalidInputException(f"A promotion needs {', '.join(missing)}: the promotion's name, the "
                                    "percentage of promoted items and the filter that selects them.")
    wanted = max(1, k * promo["percentPromotedItems"] // 100) if k else 0
    promo_mask = base & _filter_mask(ctx, served, promo["filterArn"], promo.get("filterValues"), p, n)
    promoted = serving.with_new_items(served, serving.recommend_codes(
        served, user_id, wanted, promo_mask, item_code=item_code, context=context, explore=False), promo_mask, wanted)
    rest_mask = rest_mask.copy()
    rest_mask[promoted.codes] = False
    ranked = serving.recommend_codes(served, user_id, k - len(promoted), rest_mask, item_code=item_code,
                                     context=context)
    serving.record_impressions(served.data, rid, np.r_[ranked.codes, promoted.codes])
    items = _place_promoted(serving.predicted(served, ranked, columns),
                            serving.predicted(served, promoted, columns, promotion=promo["name"]), rid)
    return {"itemList": items, "recommendationId": rid}


@operation("GetPersonalizedRanking")
@_read_pinned(recipes.GET_PERSONALIZED_RANKING)
def get_personalized_ranking(ctx, p, served):
    columns = _metadata_columns(served, p)
    limit = MAX_INPUT_LIST if columns is None else MAX_INPUT_LIST_WITH_METADATA
    if len(p["inputList"]) > limit:
        raise InvalidInputException(
            f"inputList can hold at most {limit} items{'' if columns is None else ' with metadataColumns'}; "
            f"got {len(p['inputList'])}.")
    allowed = None
    if p.get("filterArn"):  # one extra slot stands for items the dataset group has never seen
        allowed = _filter_mask(ctx, served, p["filterArn"], p.get("filterValues"), p, served.n_catalogue + 1)
    ranked, unknown = serving.rank_items(served, p["userId"], p["inputList"], allowed=allowed,
                                         context=p.get("context"))
    rid = _recommendation_id()
    attribution.record_recommendation(ctx.store, rid, p.get("campaignArn") or p.get("recommenderArn"))
    serving.record_impressions(served.data, rid, ranked.codes)
    return {"personalizedRanking": serving.ranking_predicted(served, ranked, unknown, columns),
            "recommendationId": rid}


@operation("GetActionRecommendations")
@_read_pinned(recipes.GET_ACTION_RECOMMENDATIONS)
def get_action_recommendations(ctx, p, served):
    """Next-best actions for ``userId`` (spec 30 §10.5; guide L7390-L7420): ``numResults`` default 5, at
    most 100; expired actions and actions inside their REPEAT_FREQUENCY window after the user took them
    (at the emulator clock's time) never appear; scores are propensities in [0, 1], all 0.0 until the
    training data passed the data gate, and 0.0 for actions added by exploration; the filter is an
    ``ActionID`` filter."""
    k = p.get("numResults", DEFAULT_ACTION_RESULTS)
    if k > MAX_ACTION_RESULTS:
        raise InvalidInputException(f"numResults must be at most {MAX_ACTION_RESULTS}.")
    if not p.get("userId"):
        raise InvalidInputException(f"userId is required for {served.recipe.name} ({served.recipe.recipe_type}).")
    allowed = None
    if p.get("filterArn"):
        allowed = _filter_mask(ctx, served, p["filterArn"], p.get("filterValues"), p, len(served.data.actions),
                               target="ActionID")
    ranked = serving.recommend_actions(served, p["userId"], k, now=ctx.store.clock.now(), allowed=allowed)
    ids = served.data.actions.ids
    return {"actionList": [{"actionId": ids[c], "score": round(float(s), 7)}
                           for c, s in zip(ranked.codes.tolist(), ranked.scores.tolist())],
            "recommendationId": _recommendation_id()}
