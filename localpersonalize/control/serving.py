"""The serving core shared by the runtime (api/runtime.py) and batch jobs (api/batch.py): one user's (or a
block of users') eligible items, the model's ranking with context and exploration, and the answer's
PredictedItem dicts. Handlers resolve the campaign/recommender and check the request; everything about
*what* is recommended lives here, so a batch line and GetRecommendations give the same list.

Public API
----------
``Served``                                    what a request is answered from (recipe, model, data, config)
``history(served, user_id)``                  the user's item codes the model folds in
``base_mask(served, user_id, n)``             bool[n] before filters (domain use cases' own exclusions)
``filter_mask(store, served, arn, values, user_id=, item_id=, n=, target=)``   a filter's bool[n]
``filter_expression(store, served, arn, target=)``   the filter's checked, compiled expression
``context_log_lift(served, context)``         float64[n_items] log score adjustment for ``context``
``recommend_rows(served, user_ids, allowed, k, ...)``   GetRecommendations' lists of many users (arrays)
``recommend_codes(served, user_id, k, allowed, ...) -> Ranked``   GetRecommendations' list (codes)
``rank_items(served, user_id, item_ids, allowed=, context=) -> Ranked``   GetPersonalizedRanking's order
``predicted(served, ranked_or_codes, ...)``   PredictedItem dicts (score / reason / metadata)
``record_impressions(data, recommendation_id, codes)``, ``impression_counts(data)``   impressions

Context (spec 30 §10.1; spec 10 §5.2): recipes that use contextual metadata (:data:`CONTEXT_RECIPES`)
adjust the model's scores by the request's ``context`` values, naive-Bayes style:
``p(i | u, c) ∝ p(i | u) · p(i | c) / p(i)`` — the model's next-item probability times the lift of the
item among the interactions recorded with that context value (e.g. ``DEVICE = "mobile"``), counted over
the Interactions dataset as it is now (streamed events included), smoothed with
:data:`CONTEXT_PSEUDO_COUNT` pseudo-interactions at the overall item distribution. Several context keys
multiply their lifts. A value never recorded leaves the scores as they are. Keys must be fields of the
Interactions schema (other than the IDs, TIMESTAMP, IMPRESSION, RECOMMENDATION_ID): otherwise
InvalidInputException. Scores stay a distribution (renormalised over the catalogue).

Exploration: see :mod:`localpersonalize.engine.exploration`; the interaction counts, item ages and
impressions it needs are computed here from the current data (cached per dataset state).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from .. import filters
from ..engine import exploration as expl
from ..engine.base import _rank, top_k
from ..errors import InvalidInputException
from . import recipes, training
from .memo import WeakLRU
from .lifecycle import ACTIVE

#: Recipes and use cases whose models use contextual metadata (spec 30 §10.1; guide L6492-L7250, L6226,
#: L6344): User-Personalization(-v2), Personalized-Ranking(-v2), Top picks for you, Recommended for you.
CONTEXT_RECIPES = frozenset({"aws-user-personalization", "aws-user-personalization-v2",
                             "aws-personalized-ranking", "aws-personalized-ranking-v2",
                             "aws-vod-top-picks", "aws-ecomm-recommended-for-you"})
#: Interactions fields that are not contextual metadata.
NOT_CONTEXT_FIELDS = frozenset({"USER_ID", "ITEM_ID", "TIMESTAMP", "IMPRESSION", "RECOMMENDATION_ID"})
#: Pseudo-interactions at the overall item distribution added to each context value's counts.
CONTEXT_PSEUDO_COUNT = 20.0
#: UP-v2's own exploration weight (it manages exploration itself, no itemExplorationConfig; EMULATOR
#: CHOICE: a lighter touch than the v1 default 0.3) and its candidate set: its softmax "runs over a
#: subset of candidate items" (spec 30 §10.2), the model's best V2_CANDIDATES items before any filter.
V2_EXPLORATION = expl.ExplorationConfig(weight=0.1)
V2_CANDIDATES = 1000
V2 = "aws-user-personalization-v2"
#: The ``reason`` strings of UP-v2 (PredictedItem.reason doc; spec 30 §10.2).
PROMOTED_REASON, EXPLORATION_REASON, POPULAR_REASON = "Promoted item", "Exploration", "Popular item"
#: Seed of the exploration draws (with the request's user/item ID): deterministic answers.
EXPLORATION_SEED = training.SEED
#: Recommendation IDs remembered per dataset group for implicit impressions (oldest dropped first).
MAX_LOGGED_RECOMMENDATIONS = 100_000


@dataclass
class Served:
    """What a request is answered from.

    ``recipe``: the catalogue :class:`~.recipes.Recipe`; ``trained``: the
    :class:`~.training.TrainedModel`; ``data``: the dataset group's ``DatasetGroupData``; ``group_arn``:
    its ARN; ``config``: the campaignConfig / recommenderConfig (or a batch job's
    ``batchInferenceJobConfig``), read for ``itemExplorationConfig``.
    """

    recipe: object
    trained: object
    data: object
    group_arn: str
    config: dict

    @property
    def n_items(self) -> int:
        """Items the model was trained on (codes ≥ this are unknown to it)."""
        return self.trained.n_items

    @property
    def n_catalogue(self) -> int:
        """Items the dataset group knows now (the model's plus those added since training)."""
        return len(self.data.items)

    def exploration(self) -> expl.ExplorationConfig | None:
        """The exploration settings: ``itemExplorationConfig`` for the recipes that take it (defaults when
        absent), UP-v2's own, or None for recipes without exploration (spec 20 §B.2)."""
        if self.recipe.name == V2:
            return V2_EXPLORATION
        if not (self.recipe.exploration and self.recipe.exploration_configurable):
            return None
        return expl.ExplorationConfig.from_api(self.config.get("itemExplorationConfig"))


@dataclass
class Ranked:
    """A ranked answer: ``codes`` int64[m] item (or action) codes in answer order; ``scores``
    float64[m] (NaN = no score: a UP-v2 popular placeholder or an item the model never saw);
    ``reasons``: list of m lists of reason strings (UP-v2). ``items``: :func:`predicted`'s answers for
    this ranking by (columns, promotion), kept because a Ranked from the answer cache serves many
    requests (its arrays are read-only then)."""

    codes: np.ndarray
    scores: np.ndarray
    reasons: list
    items: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, codes, scores, reasons=None) -> "Ranked":
        codes = np.asarray(codes, np.int64)
        return cls(codes, np.asarray(scores, np.float64), reasons or [[] for _ in range(len(codes))])

    def __len__(self) -> int:
        return len(self.codes)


# ----------------------------------------------------------------------------- inputs
def history(served: Served, user_id: str | None) -> np.ndarray:
    """int32 item codes of the user's history the model folds in: every event up to now (bulk and
    streamed) for recipes that react in real time (``Recipe.realtime``), the training snapshot for the
    others (spec 20 §B.1, spec 30 §10)."""
    if served.recipe.realtime:
        return training.user_history(served.data, user_id, served.n_items)
    return training.user_history_at_training(served.trained, served.data, user_id)


def base_mask(served: Served, user_id: str | None, n: int | None = None) -> np.ndarray:
    """bool[n] (default ``n_items``): items the recipe may recommend before any filter — all, minus what
    a domain use case drops by itself (the user's 100 most recent events per excluded event type, guide
    L6165)."""
    n = served.n_items if n is None else n
    mask = np.ones(n, bool)
    if served.recipe.excludes_seen_event_types and user_id:
        seen = filters.recent_targets(served.data, user_id, served.recipe.excludes_seen_event_types)
        mask[seen[seen < n]] = False
    return mask


def filter_mask(store, served: Served, filter_arn: str, filter_values, *, user_id=None, item_id=None,
                n: int, target: str = "ItemID") -> np.ndarray:
    """bool[n] of the IDs a filter lets through for this request (spec 50 §5).

    Raises ResourceNotFoundException (unknown filter), InvalidInputException (not ACTIVE, another dataset
    group, another kind of IDs, CurrentItem outside related-items recipes; a missing INCLUDE parameter).
    """
    expr = filter_expression(store, served, filter_arn, target)
    return filters.allowed_mask(expr, served.data, n, user_id=user_id, item_id=item_id, filter_values=filter_values)


def filter_expression(store, served: Served, filter_arn: str, target: str = "ItemID"):
    """The compiled expression of a filter this request may use (the checks of :func:`filter_mask`).

    Raises ResourceNotFoundException (unknown filter), InvalidInputException (not ACTIVE, another dataset
    group, another kind of IDs, CurrentItem outside related-items recipes).
    """
    res = store.get("filter", filter_arn)
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
    return expr


# ----------------------------------------------------------------------------- per-dataset statistics
class _Cache:
    """Statistics of a dataset recomputed only when its rows change (keyed by the identity of its
    ITEM_ID column array, which every append or replacement renews)."""

    def __init__(self):
        self._by_data = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, data, ds, name: str, compute):
        key_col = ds.codes("ITEM_ID")
        with self._lock:
            slot = self._by_data.setdefault(data, {})
            hit = slot.get(name)
            if hit is not None and hit[0] is key_col and hit[1] == len(data.items):
                return hit[2]
        value = compute()
        with self._lock:
            slot[name] = (key_col, len(data.items), value)
        return value


_CACHE = _Cache()


def _item_counts(data, ds) -> np.ndarray:
    """float64[n_catalogue] interactions per item in the Interactions dataset now."""
    return _CACHE.get(data, ds, "counts", lambda: np.bincount(
        ds.codes("ITEM_ID")[ds.codes("ITEM_ID") >= 0], minlength=len(data.items)).astype(np.float64))


def _check_context(data, context: dict) -> None:
    ds = data.dataset("INTERACTIONS")
    for key in context:
        if ds is None or ds.schema.field(key) is None or key in NOT_CONTEXT_FIELDS:
            fields = [] if ds is None else [f.name for f in ds.schema.fields if f.name not in NOT_CONTEXT_FIELDS]
            raise InvalidInputException(
                f"The context key {key} is not a contextual metadata field of the Interactions schema "
                f"(its fields: {', '.join(fields) or 'none'}).")


def context_log_lift(served: Served, context: dict | None) -> np.ndarray | None:
    """float64[n_items] ``Σ_keys log(p(i | key = value) / p(i))`` over the request's ``context`` (module
    docstring), or None when the recipe does not use context or nothing applies.

    Raises InvalidInputException for a key that is not a contextual field of the Interactions schema.
    """
    if not context:
        return None
    data = served.data
    _check_context(data, context)
    if served.recipe.name not in CONTEXT_RECIPES:
        return None
    ds = data.dataset("INTERACTIONS")
    n = len(data.items)
    counts = _item_counts(data, ds)
    prior = (counts + 1.0) / (counts.sum() + n)
    out = np.zeros(n)
    for key, value in sorted(context.items()):
        def per_value(key=key):
            column = ds.column(key)
            items = ds.codes("ITEM_ID")
            values = np.asarray([str(v).lower() if v is not None else "" for v in column], object)
            table = {}
            for v in np.unique(values):
                if v != "":
                    sel = (values == v) & (items >= 0)
                    table[v] = np.bincount(items[sel], minlength=n).astype(np.float64)
            return table
        table = _CACHE.get(data, ds, f"context:{key}", per_value)
        c = table.get(str(value).lower())
        if c is None:
            continue
        p_given = (c + CONTEXT_PSEUDO_COUNT * prior) / (c.sum() + CONTEXT_PSEUDO_COUNT)
        out += np.log(p_given) - np.log(prior)
    if not out.any():
        return None
    return out[:served.n_items]


# ----------------------------------------------------------------------------- impressions
_IMPRESSION_LOG: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_IMPRESSION_LOCK = threading.Lock()


def record_impressions(data, recommendation_id: str, codes) -> None:
    """Remember the item codes an answer returned under ``recommendation_id`` (implicit impressions: a
    later PutEvents naming it shows the user saw them, spec 10 §5.3, L5492). Bounded per group."""
    with _IMPRESSION_LOCK:
        log = _IMPRESSION_LOG.setdefault(data, {})
        log[recommendation_id] = np.asarray(codes, np.int64)
        while len(log) > MAX_LOGGED_RECOMMENDATIONS:
            log.pop(next(iter(log)))


def _count_lists(out: np.ndarray, row_codes: np.ndarray, items_of) -> None:
    """Add to ``out`` (float64[n_catalogue]) one per row and listed item: ``row_codes`` int32[m] the rows'
    dictionary codes; ``items_of(code)`` the item codes of that value's list (or None). Each distinct value
    is parsed once and weighted by its row count."""
    if not len(row_codes):
        return
    distinct, times = np.unique(row_codes, return_counts=True)
    for d, t in zip(distinct.tolist(), times.tolist()):
        items = items_of(d)
        if items is not None:
            items = np.asarray(items, np.int64)
            np.add.at(out, items[(items >= 0) & (items < len(out))], float(t))


def impression_counts(data) -> np.ndarray:
    """float64[n_catalogue] times each item was in an impression of an interaction now in the dataset:
    the explicit ``IMPRESSION`` list of the event (``|``-joined IDs), else the items of the answer its
    ``RECOMMENDATION_ID`` names (explicit wins, spec 40 rule 4). Needs those fields in the Interactions
    schema (PutEvents and imports keep them only then)."""
    ds = data.dataset("INTERACTIONS")
    n = len(data.items)
    if ds is None:
        return np.zeros(n)

    def compute():
        out = np.zeros(n)
        left = np.ones(ds.n_rows, bool)  # rows whose impression is not yet counted
        if ds.schema.field("IMPRESSION") is not None:
            texts = ds.dictionary("IMPRESSION").ids
            codes = ds.codes("IMPRESSION")
            nonempty = np.array([bool(t) for t in texts] + [False])  # index -1 (null) → False
            rows = nonempty[codes]
            _count_lists(out, codes[rows], lambda d: data.items.codes(texts[d].split("|"), add=False))
            left &= ~rows
        if ds.schema.field("RECOMMENDATION_ID") is not None:
            texts = ds.dictionary("RECOMMENDATION_ID").ids
            codes = ds.codes("RECOMMENDATION_ID")
            with _IMPRESSION_LOCK:
                log = dict(_IMPRESSION_LOG.get(data, {}))
            _count_lists(out, codes[left & (codes >= 0)], lambda d: log.get(texts[d]))
        return out

    if ds.schema.field("IMPRESSION") is None and ds.schema.field("RECOMMENDATION_ID") is None:
        return np.zeros(n)
    return _CACHE.get(data, ds, "impressions", compute)


def _item_ages(data, ds) -> np.ndarray:
    """float64[n_catalogue] item ages in days (engine.exploration.item_age_days)."""
    def compute():
        n = len(data.items)
        items, ts = ds.codes("ITEM_ID"), np.asarray(ds.codes("TIMESTAMP"), np.float64)
        ok = items >= 0
        first = np.full(n, np.inf)
        np.minimum.at(first, items[ok], ts[ok])
        first[np.isinf(first)] = np.nan
        newest = float(ts.max()) if len(ts) else 0.0
        return expl.item_age_days(training.item_created(data, n), first, newest)
    return _CACHE.get(data, ds, "ages", compute)


#: Exploration draw tables kept by :func:`_draw_table` (least recently used dropped first; 17 bytes an item).
DRAW_TABLE_CACHE_SIZE = 16
_DRAW_TABLES = WeakLRU(DRAW_TABLE_CACHE_SIZE)


def _item_columns(data) -> list:
    """The ``ITEM_ID`` code columns of the group's Interactions and Items datasets (those it has)."""
    return [ds.codes("ITEM_ID") for t in ("INTERACTIONS", "ITEMS") if (ds := data.dataset(t)) is not None]


def _items_with_rows(columns: list, n: int) -> np.ndarray:
    """bool[n]: the items with a row in one of ``columns`` (:func:`_item_columns`): the items of the data
    now (an item whose rows were all deleted, or dropped by a FULL import, is not one, spec 40 §11.3)."""
    in_data = np.zeros(n, bool)
    for c in columns:
        in_data[c[(c >= 0) & (c < n)]] = True
    return in_data


def _draw_table(data, ds, config: expl.ExplorationConfig) -> expl.DrawTable:
    """The exploration pool of the whole catalogue as a :class:`~..engine.exploration.DrawTable`: the
    items of the data now (a row in Items or in Interactions: an item whose rows were all deleted, or
    dropped by a FULL import, is no longer recommended, spec 40 §11.3) no older than the age cut-off,
    weighted by the bonus (interactions and impressions now). Kept per Interactions and Items state (their
    ``ITEM_ID`` columns' identities, as :class:`_Cache`), catalogue size and cut-off, so requests on
    unchanged data build it once; each request's eligible items restrict it (``blend_block``'s
    ``allowed``)."""
    columns = _item_columns(data)
    key = (*map(id, columns), len(data.items), config.age_cut_off_days)
    table = _DRAW_TABLES.get(key)
    if table is None:
        in_data = _items_with_rows(columns, len(data.items))
        pool = expl.exploration_pool(_item_ages(data, ds), config.age_cut_off_days, in_data)
        table = expl.DrawTable.from_pool(pool, expl.exploration_bonus(_item_counts(data, ds), impression_counts(data)))
        _DRAW_TABLES.put(key, table, columns)
    return table


def _explore_block(served: Served, codes: np.ndarray, scores: np.ndarray, reasons: list | None, k: int,
                   allowed_all: np.ndarray, seed_keys: list, score_of) -> tuple | None:
    """Exploration for a block of relevance rankings (engine.exploration.blend_block), or None when the
    served config has none (no config, weight 0, no interactions). ``codes`` int[n, L] / ``scores``
    float64[n, L] -1 / NaN padded; ``reasons`` (:func:`recommend_rows`) n lists of reason lists or None
    (none anywhere); ``allowed_all`` bool[n or 1, n_catalogue]; ``seed_keys`` the n users (request_seed
    keys); ``score_of(rows, codes)`` the explored items' scores. The pool's age filter and the bonus come
    from the draw table kept per data state (:func:`_draw_table`), each row's filter takes its items out of
    it, and each row's draws come from its own key, so a row equals the same request served alone. Returns ``(codes int64[n, k], scores float64[n, k], reasons)`` as
    :func:`recommend_rows` does."""
    config = served.exploration()
    ds = served.data.dataset("INTERACTIONS")
    if config is None or config.weight <= 0 or ds is None or ds.n_rows == 0:
        return None
    keys = [expl.request_seed(EXPLORATION_SEED, served.recipe.name, key) for key in seed_keys]
    out_codes, out_scores, explored = expl.blend_block(codes, scores, k, _draw_table(served.data, ds, config), None,
                                                       config.weight, keys, score_of, allowed=allowed_all)
    v2 = served.recipe.name == V2
    if not v2 and (reasons is None or not any(map(any, reasons))):
        return out_codes, out_scores, None
    out_reasons = []
    for r in range(len(out_codes)):
        keep = out_codes[r] >= 0
        row_codes, row_explored = out_codes[r][keep], explored[r][keep]
        if v2 or any(reasons[r]):
            old = dict(zip(codes[r][codes[r] >= 0].tolist(), reasons[r]))
            row_reasons = [[EXPLORATION_REASON] if e and v2 else list(old.get(c, []))
                           for c, e in zip(row_codes.tolist(), row_explored.tolist())]
        else:
            row_reasons = None
        out_reasons.append(row_reasons)
    return out_codes, out_scores, out_reasons


# ----------------------------------------------------------------------------- ranking
def log_scores(model, histories: list, log_adjust: np.ndarray | None = None):
    """``(log_p, tail)`` float64[n, n_items] of the model for ``histories`` (list of int arrays, oldest
    first), with ``log_adjust`` (float64[n_items], the context lift) added and ``log_p`` renormalised so
    the scores stay a distribution over the catalogue."""
    log_p, tail = model.log_scores_many(model.histories_csr(histories))
    if log_adjust is not None:
        log_p = log_p + log_adjust
        tail = tail + log_adjust
        finite = np.isfinite(log_p)
        if finite.any():
            mx = np.max(np.where(finite, log_p, -np.inf), axis=1, keepdims=True)
            with np.errstate(divide="ignore"):
                lse = np.log(np.exp(np.where(finite, log_p - mx, -np.inf)).sum(axis=1, keepdims=True)) + mx
            log_p = log_p - np.where(np.isfinite(lse), lse, 0.0)
    return log_p, tail


def recommend_block(served: Served, user_ids: list, allowed: np.ndarray, k: int, *, context: dict | None = None,
                    explore: bool = True) -> list[Ranked]:
    """:func:`recommend_rows` as one :class:`Ranked` per user (padding dropped)."""
    codes, scores, reasons = recommend_rows(served, user_ids, allowed, k, context=context, explore=explore)
    out = []
    for r in range(len(codes)):
        keep = codes[r] >= 0
        out.append(Ranked.of(codes[r][keep], scores[r][keep], reasons[r] if reasons is not None else None))
    return out


def recommend_rows(served: Served, user_ids: list, allowed: np.ndarray, k: int, *, context: dict | None = None,
                   explore: bool = True) -> tuple[np.ndarray, np.ndarray, list | None]:
    """GetRecommendations' lists (before promotions) of several users at once, in one fold-in and one
    matrix product, as arrays: ``(codes int[n, L], scores float64[n, L], reasons)``, -1 / NaN padded
    (the kept entries of a row are its list in order; NaN = no score); ``reasons`` is None when no item
    of the block has one, else n entries, each None or a list of reason lists parallel to the row's kept
    entries. The lists: the model's top ``k`` items among ``allowed`` (bool[n_users or 1, n_catalogue] or
    bool[n_users or 1, n_items]; one row = the same for every user) for each user's :func:`history`,
    then exploration (computed for the whole block). Row r equals :func:`recommend_codes` of
    ``user_ids[r]`` (:func:`recommend_block` gives the Rankeds).

    ``context``: the request's map (:func:`context_log_lift`; raises InvalidInputException for an
    unknown key). UP-v2 ranks a candidate set, its best :data:`V2_CANDIDATES` items before any filter;
    when the filter leaves fewer than ``k`` of them, popular allowed items fill the list with the reason
    "Popular item" and no score (spec 30 §10.2). ``explore=False`` leaves exploration out (promoted
    items). Scores NaN = none. Without context or UP-v2 the ranking is engine
    ``Recommender.rank_log_scores`` (the group rule and the top-k in a few passes over the block).
    """
    model, n = served.trained.model, served.n_items
    allowed = np.atleast_2d(allowed)
    if len(allowed) > 1 and (allowed == allowed[:1]).all():
        allowed = allowed[:1]                           # one mask for all: shared pool and draws' weights
    log_adjust = context_log_lift(served, context)
    if k <= 0 or not len(user_ids):
        return np.full((len(user_ids), 0), -1, np.int64), np.full((len(user_ids), 0), np.nan), None
    hists = [history(served, u) for u in user_ids]
    eligible = allowed[:, :n]
    v2 = served.recipe.name == V2
    if v2:
        log_p, tail = log_scores(model, hists, log_adjust)
    elif log_adjust is not None:
        log_p, tail = log_scores(model, hists, log_adjust)
        np.copyto(log_p, -np.inf, where=~eligible)      # explored items are allowed: their log_p stays
        np.copyto(tail, -np.inf, where=~eligible)
        idx, vals = _rank(log_p, tail, k)
    else:
        idx, vals, log_p = model.rank_log_scores(model.histories_csr(hists), k,
                                                 None if eligible.all() else eligible)
    reasons = None
    if v2:
        idx, vals, reasons = _v2_rank(model, log_p, tail, eligible, k)
    if not explore:
        return idx, vals, reasons

    def score_of(rows, codes):
        codes = np.asarray(codes, np.int64)
        known = np.zeros(len(codes), bool)
        known[codes < n] = model.trained[codes[codes < n]]
        return np.where(known, np.exp(log_p[rows, np.minimum(codes, n - 1)]), np.nan)

    full = allowed
    if full.shape[1] < served.n_catalogue:
        full = np.concatenate([full, np.ones((len(full), served.n_catalogue - full.shape[1]), bool)], axis=1)
    out = _explore_block(served, idx, vals, reasons, k, full, [u or "" for u in user_ids], score_of)
    return (idx, vals, reasons) if out is None else out


def _v2_rank(model, log_p, tail, eligible, k):
    """UP-v2's lists (:func:`_v2_lists` of its candidate ranking, the best :data:`V2_CANDIDATES` of
    ``log_p`` / ``tail`` float64[n, n_items]) for ``eligible`` bool[n, n_items]: ``(idx int64[n, k],
    vals float64[n, k], reasons)`` -1 / NaN padded; ``eligible`` may be one row shared by all.

    Most rows need no candidate ranking: when a row's top ``k`` eligible items by ``log_p`` are settled
    (the k-th has a finite score ``s`` no other eligible item ties) and at most ``V2_CANDIDATES`` items
    of the whole row score ``≥ s`` (so all of them are candidates, whatever the candidate ranking does
    with ties) and the row has no zero-mass tail, its list is those k items in score order, each without
    a reason — what the candidate ranking gives, without ranking 1000 items of the catalogue. The other
    rows take the candidate ranking."""
    n_rows = log_p.shape[0]
    every = len(eligible) == 1 and bool(eligible.all())
    eligible = np.broadcast_to(eligible, log_p.shape)
    out_idx = np.full((n_rows, k), -1, np.int64)
    out_vals = np.full((n_rows, k), np.nan)
    reasons: list = [None] * n_rows                        # every row is set below: quick or slow
    quick = np.zeros(n_rows, bool)
    if 0 < k < V2_CANDIDATES:
        masked = log_p if every else np.where(eligible, log_p, -np.inf)
        idx, vals = top_k(masked, k)
        if idx.shape[1] == k:
            s = vals[:, k - 1:k]
            with np.errstate(invalid="ignore"):
                above = np.count_nonzero(log_p >= s, axis=1)
                quick = (np.isfinite(s[:, 0]) & ((above if every else np.count_nonzero(masked >= s, axis=1)) == k)
                         & (above <= V2_CANDIDATES) & ~np.isfinite(tail).any(axis=1))
            out_idx[quick], out_vals[quick] = idx[quick], np.exp(vals[quick])
            for r in np.flatnonzero(quick).tolist():
                reasons[r] = [[] for _ in range(k)]
    slow = np.flatnonzero(~quick)
    if len(slow):
        c_idx, c_vals = _rank(log_p[slow], tail[slow], min(V2_CANDIDATES, log_p.shape[1]))
        s_idx, s_vals, s_reasons = _v2_lists(model, c_idx, c_vals, eligible[slow], k)
        out_idx[slow], out_vals[slow] = s_idx, s_vals
        for r, row in zip(slow.tolist(), s_reasons):
            reasons[r] = row
    return out_idx, out_vals, reasons


def _v2_lists(model, idx, vals, eligible, k):
    """UP-v2's lists from its candidate ranking ``idx`` / ``vals`` (the best items before any filter):
    the ``eligible`` (bool[n, n_items]) candidates, then popular eligible items with the "Popular item"
    reason when fewer than ``k`` are left. Returns ``(idx int64[n, k], vals float64[n, k], reasons)``
    -1 / NaN padded."""
    out_idx, out_vals = np.full((len(idx), k), -1, np.int64), np.full((len(idx), k), np.nan)
    reasons = []
    pop = model.popularity
    for r in range(len(idx)):
        keep = idx[r] >= 0
        codes, scores = idx[r][keep], vals[r][keep]
        ok = eligible[r][codes]
        codes, scores = codes[ok][:k], scores[ok][:k]
        row_reasons = [[] for _ in codes]
        if len(codes) < k:
            rest = eligible[r].copy()
            rest[codes] = False
            extra = np.flatnonzero(rest & (pop > 0))
            extra = extra[np.lexsort((extra, -pop[extra]))][:k - len(codes)]
            codes, scores = np.r_[codes, extra], np.r_[scores, np.full(len(extra), np.nan)]
            row_reasons += [[POPULAR_REASON] for _ in extra]
        out_idx[r, :len(codes)], out_vals[r, :len(codes)] = codes, scores
        reasons.append(row_reasons)
    return out_idx, out_vals, reasons


# ----------------------------------------------------------------------------- one request, cached
#: Answers kept by :data:`_ANSWERS` (least recently used dropped first; a few hundred bytes each).
ANSWER_CACHE_SIZE = 20_000


class _AnswerCache(WeakLRU):
    """GetRecommendations' lists (before promotions) of :func:`recommend_block`, remembered per request.

    A list is a deterministic function of: the model, the user's :func:`history` (the codes it folds
    in), the eligible mask, ``k``, ``context``, ``explore`` with the exploration config, the user ID
    (it seeds the exploration draw), the recipe, and the dataset group's state that exploration and the
    context lift read (interaction counts, item ages, impressions, catalogue size). The key holds all of
    them: the mask as a 128-bit BLAKE2 digest of its packed bits (or "all"), the data state as the
    identities of the Interactions and Items ``ITEM_ID`` columns (renewed by every append, upsert or
    deletion, as :class:`_Cache` uses them) and the number of items. The history is a function of the
    model (the training snapshot of recipes that do not react in real time) or of the Interactions
    state and the user ID (the others), so the key names it through them. So a PutEvents for the user
    changes the key (the next request recomputes: real-time personalization), an event of anyone else
    renews the data state, and a hit is the answer the uncached path gives. Entries hold weak
    references to the model and the column arrays, so an identity reused after they are freed never
    matches (:class:`~.memo.WeakLRU`). Thread-safe; the kept :class:`Ranked` is shared by the requests
    it answers, with read-only arrays (and :func:`predicted`'s dicts kept with it)."""

    def __init__(self, size: int = ANSWER_CACHE_SIZE):
        super().__init__(size)

    @staticmethod
    def _key(served: Served, user_id, k: int, allowed: np.ndarray, context, explore: bool):
        allowed = np.asarray(allowed, bool)
        mask = _mask_digest(allowed)
        referents = [served.trained.model]
        state = [len(served.data.items)]
        for kind in ("INTERACTIONS", "ITEMS"):
            ds = served.data.dataset(kind)
            col = None if ds is None else ds.codes("ITEM_ID")
            state.append(None if col is None else id(col))
            if col is not None:
                referents.append(col)
        key = (id(served.trained.model), served.recipe.name,
               served.exploration() if explore else None, user_id, k, len(allowed), mask,
               tuple(sorted(context.items())) if context else None, tuple(state))
        return key, referents

    def recommend(self, served: Served, user_id, k: int, allowed: np.ndarray, context, explore: bool) -> Ranked:
        """:func:`recommend_block` of one user, from the cache when the same request was answered on the
        same data. Raises InvalidInputException for a context key the Interactions schema lacks."""
        if context:
            _check_context(served.data, context)
        key, referents = self._key(served, user_id, k, allowed, context, explore)
        hit = self.get(key)
        if hit is not None:
            return hit
        ranked = recommend_block(served, [user_id], np.asarray(allowed, bool)[None, :], k, context=context,
                                 explore=explore)[0]
        ranked.codes.flags.writeable = ranked.scores.flags.writeable = False
        ranked.reasons = tuple(tuple(r) for r in ranked.reasons)
        self.put(key, ranked, referents)
        return ranked


#: Digests of read-only masks by identity (:func:`_mask_digest`).
_DIGESTS = WeakLRU(256)


def _mask_digest(allowed: np.ndarray):
    """"all", or the 128-bit BLAKE2 digest of the packed bits of bool[n] ``allowed``; remembered for a
    read-only mask (the runtime's mask cache hands the same read-only array to repeat requests)."""
    frozen = not allowed.flags.writeable
    if frozen:
        hit = _DIGESTS.get(id(allowed))
        if hit is not None:
            return hit
    digest = "all" if allowed.all() else hashlib.blake2b(np.packbits(allowed).tobytes(), digest_size=16).digest()
    if frozen:
        _DIGESTS.put(id(allowed), digest, [allowed])
    return digest


_ANSWERS = _AnswerCache()


def recommend_codes(served: Served, user_id: str | None, k: int, allowed: np.ndarray, *,
                    item_code: int | None = None, context: dict | None = None, explore: bool = True) -> Ranked:
    """GetRecommendations' list before promotions for one request: :func:`recommend_block` of one user
    (through the answer cache :data:`_ANSWERS`: a repeat request on unchanged data is a look-up), or,
    for related-items recipes (``item_code`` not None), the items most similar to the request item
    among ``allowed`` (an item the model never saw gets the popularity ranking, cold start, spec 70
    §7.3, as an unknown user does)."""
    n = served.n_items
    if item_code is None:
        return _ANSWERS.recommend(served, user_id, k, allowed, context, explore)
    context_log_lift(served, context)  # checks the keys
    if not 0 <= item_code < n:
        return recommend_block(served, [None], allowed[None, :], k, explore=False)[0]
    eligible = allowed[:n]
    if k <= 0 or not eligible.any():
        return Ranked.of([], [])
    fetch = min(n, k + int(np.count_nonzero(~eligible)))
    items, scores = served.trained.model.similar_items(item_code, fetch)
    keep = eligible[items]
    return Ranked.of(items[keep][:k], scores[keep][:k])


def with_new_items(served: Served, ranked: Ranked, allowed: np.ndarray, k: int) -> Ranked:
    """``ranked`` (a promotion's items, by the model) followed, up to ``k`` items in all, by the items the
    model never saw (added since its training) that ``allowed`` (bool[n_catalogue], the promotion's filter
    and the request's exclusions) lets through and that have a row in Items or Interactions, newest first
    (CREATION_TIMESTAMP, then the latest added), without a score: "to surface new items with
    User-Personalization-v2, promote by CREATION_TIMESTAMP" (spec 30 §10.4), where the model's own ranking
    holds none of them."""
    n, m = served.n_items, len(allowed)
    if len(ranked) >= k or m <= n:
        return ranked
    in_data = _items_with_rows(_item_columns(served.data), m)
    new = np.flatnonzero(allowed[n:] & in_data[n:]) + n
    created = training.item_created(served.data, m)
    newest = -created[new] if created is not None else np.zeros(len(new))
    new = new[np.lexsort((-new, np.nan_to_num(newest, nan=np.inf)))][:k - len(ranked)]
    return Ranked.of(np.r_[ranked.codes, new], np.r_[ranked.scores, np.full(len(new), np.nan)],
                     list(ranked.reasons) + [[] for _ in range(len(new))])


def rank_items(served: Served, user_id: str, item_ids: list, *, allowed: np.ndarray | None = None,
               context: dict | None = None) -> tuple[Ranked, list]:
    """GetPersonalizedRanking: ``(ranked, unknown)``. ``item_ids`` deduplicated in order; ``allowed``
    bool[n_catalogue + 1] (the filter; the extra last slot stands for IDs the dataset group never saw)
    drops items first. ``ranked``: the items the model knows by descending score (ties in input order),
    scores renormalised over them ("identical to GetRecommendations, except that it only considers the
    input items", spec 70 §1.4; the context lift applies); ``unknown``: the other IDs in input order
    (placed last by the caller, spec 30 §10.3)."""
    data = served.data
    inputs = list(dict.fromkeys(item_ids))
    codes = data.items.codes(inputs, add=False)
    if allowed is not None:
        keep = allowed[np.where(codes >= 0, codes, len(allowed) - 1)]
        inputs, codes = [i for i, ok in zip(inputs, keep) if ok], codes[keep]
    trained = (codes >= 0) & (codes < served.n_items)
    known = codes[trained]
    scores = np.empty(0)
    if len(known):
        scores = served.trained.model.score(history(served, user_id), known)
        lift = context_log_lift(served, {} if context is None else context)
        if lift is not None:
            scores = scores * np.exp(lift[known])
            total = scores.sum()
            scores = scores / total if total > 0 else scores
    elif context:
        _check_context(data, context)
    order = np.lexsort((np.arange(len(known)), -scores))
    return Ranked.of(known[order], scores[order]), [i for i, ok in zip(inputs, trained) if not ok]


# ----------------------------------------------------------------------------- answers
def metadata(data, codes: np.ndarray, columns: list[str]) -> list[dict]:
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


def predicted(served: Served, ranked: Ranked, columns: list | None = None, promotion: str | None = None) -> list[dict]:
    """PredictedItem dicts of ``ranked``: ``score`` only for recipes that give scores (guide L12553) and
    only where the ranking has one (no score on UP-v2 placeholders; an item the model never saw scores
    0.0 on v1 recipes and has none on v2, spec 70 §0, §1.4); ``promotionName`` and the "Promoted item"
    reason (UP-v2) on promoted items; ``reason`` lists on UP-v2; ``metadata`` when asked for. New dicts
    each call (built once per ``ranked``, columns and promotion: ``Ranked.items``)."""
    memo_key = (tuple(columns) if columns is not None else None, promotion)
    kept = ranked.items.get(memo_key)
    if kept is None:
        kept = ranked.items[memo_key] = _predicted(served, ranked, columns, promotion)
    return [dict(item) for item in kept]


def _predicted(served: Served, ranked: Ranked, columns: list | None, promotion: str | None) -> list[dict]:
    ids = served.data.items.ids
    v2_reasons = served.recipe.name == V2
    no_score_unknown = served.recipe.name.endswith("-v2")
    out = []
    for code, score, reasons in zip(ranked.codes.tolist(), ranked.scores.tolist(), ranked.reasons):
        item = {"itemId": ids[code]}
        if served.recipe.returns_scores:
            if score == score:
                item["score"] = round(float(score), 7)
            elif not no_score_unknown and not reasons:
                item["score"] = 0.0
        if promotion is not None:
            item["promotionName"] = promotion
            reasons = [PROMOTED_REASON]
        if v2_reasons and reasons:
            item["reason"] = list(reasons)
        out.append(item)
    if columns is not None:
        for item, meta in zip(out, metadata(served.data, ranked.codes, columns)):
            item["metadata"] = meta
    return out


def ranking_predicted(served: Served, ranked: Ranked, unknown: list, columns: list | None = None) -> list[dict]:
    """GetPersonalizedRanking's PredictedItems: the ranked items, then the items the model never saw in
    input order — score 0.0 on v1, no score on v2 (spec 70 §0, §1.4), metadata when asked for."""
    out = predicted(served, ranked, columns)
    data = served.data
    for item_id in unknown:
        entry = {"itemId": item_id}
        if served.recipe.returns_scores and not served.recipe.name.endswith("-v2"):
            entry["score"] = 0.0
        if columns is not None:
            code = data.items.code(item_id, add=False)
            entry["metadata"] = metadata(data, np.array([code]), columns)[0] if code >= 0 else {}
        out.append(entry)
    return out


# ----------------------------------------------------------------------------- actions
def _action_stats(data):
    """(interactions per action float64[n_actions], age in days float64[n_actions]) from the Actions and
    Action interactions datasets now (engine.exploration.item_age_days with the actions'
    CREATION_TIMESTAMP)."""
    acts, ai = data.dataset("ACTIONS"), data.dataset("ACTION_INTERACTIONS")
    n = len(data.actions)
    counts, first = np.zeros(n), np.full(n, np.inf)
    newest = 0.0
    if ai is not None and ai.n_rows:
        a, ts = ai.codes("ACTION_ID"), np.asarray(ai.codes("TIMESTAMP"), np.float64)
        ok = a >= 0
        counts = np.bincount(a[ok], minlength=n).astype(np.float64)[:n]
        np.minimum.at(first, a[ok], ts[ok])
        newest = float(ts.max())
    first[np.isinf(first)] = np.nan
    created = None
    if acts is not None and acts.schema.field("CREATION_TIMESTAMP") is not None:
        created = np.full(n, np.nan)
        vals = np.asarray(acts.codes("CREATION_TIMESTAMP"), np.float64).copy()
        vals[acts.null_mask("CREATION_TIMESTAMP")] = np.nan
        created[acts.codes("ACTION_ID")] = vals
    return counts, expl.item_age_days(created, first, newest)


def recommend_actions(served: Served, user_id: str, k: int, *, now: float, allowed: np.ndarray | None = None
                      ) -> Ranked:
    """GetActionRecommendations' list: the Next-Best-Action model's ranking (training.recommend_actions:
    propensities, expired and repeat-window actions left out at ``now`` epoch seconds, ties by VALUE,
    all 0.0 before the data gate) among ``allowed`` (bool[n_actions], an ActionID filter), then
    exploration over the actions (campaign ``itemExplorationConfig``): explored actions score 0.0
    (spec 30 §10.5). Codes index the group's ``actions``."""
    n = len(served.data.actions)
    codes, scores, candidates = training.recommend_actions(served.trained, served.data, user_id, n, now=now,
                                                           allowed=allowed)
    config = served.exploration()
    if config is None or config.weight <= 0 or not candidates.any():
        return Ranked.of(codes[:k], scores[:k])
    counts, ages = _action_stats(served.data)
    pool = expl.exploration_pool(ages, config.age_cut_off_days, candidates)
    out_codes, out_scores, _ = expl.blend(codes, scores, k, pool, expl.exploration_bonus(counts, 0.0),
                                          config.weight, expl.request_seed(EXPLORATION_SEED, served.recipe.name,
                                                                           user_id))
    return Ranked.of(out_codes, out_scores)
