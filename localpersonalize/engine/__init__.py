"""localpersonalize recommender engine: pure numpy/scipy, integer indices in, arrays out.

Public API
----------
``train(recipe_name, interactions, hyperparameters, seed=0, algorithm="auto", item_features=None, actions=None)``
``train_and_evaluate(...)`` (the same, plus the recipe family's offline metrics),
``update(model, interactions)`` (``trainingMode=UPDATE``), ``hpo(...)`` (``performHPO``),
``check_minimum_data(interactions) -> str | None``, ``family(recipe_name)``.
``Interactions`` (engine.interactions), the item models sharing the ``Recommender`` interface
(engine.base: top-k for one or many users, scores over an item subset, fold-in of new events,
item-to-item top-k), users-for-item top-k (engine.segments), the action model (engine.nba) and
Personalize's offline metrics (engine.metrics).

Recipe → engine (spec 70-engine-notes §0; every recipe and domain use case of the catalogue):

==============================================  ==========================================
aws-user-personalization(-v2), aws-hrnn*,       user-personalization model (EASE or iALS),
aws-vod-top-picks,                              fold-in with recency weighting, calibrated
aws-ecomm-recommended-for-you                   softmax scores (family ``up``)
aws-personalized-ranking(-v2)                   same model; rank with ``model.score``
aws-popularity-count, aws-vod-most-popular,     unique-user counts (``popularity``)
aws-ecomm-popular-items-by-views/-purchases
aws-trending-now, aws-vod-trending-now          window growth, popular fallback (``trending``)
aws-sims, aws-vod-because-you-watched-x,        co-occurrence item-kNN (``sims``)
aws-ecomm-frequently-bought-together,
aws-ecomm-customers-who-viewed-x-also-viewed
aws-similar-items, aws-vod-more-like-x          co-occurrence + item metadata (``similar_items``)
aws-item-affinity,                              the UP model scored per user (``segments``)
aws-item-attribute-affinity
aws-next-best-action                            logistic propensity per action (``nba``)
==============================================  ==========================================

Hyperparameters honoured (all arrive as strings; unknown names are ignored here, the control
layer refuses them at CreateSolution): ``hidden_dimension`` → iALS embedding size (UP family and
segments, when iALS is the engine; EASE has no embedding); ``recency_mask`` (v1) /
``apply_recency_bias`` (v2) → recency weighting of fold-in histories on/off;
``min/max_user_history_length_percentile`` and ``min/max_item_interaction_count_percentile`` → the
featurization filters of engine/params.py; ``popularity_discount_factor``, ``min_cointeraction_count``
(SIMS, Similar-Items); ``trend_discovery_frequency`` (Trending); ``action_optimization_period``
(NBA). Accepted with no effect (documented in README): ``bptt``, ``item_id_hidden_dim``,
``item_metadata_hidden_dim`` and the HRNN-Coldstart ``cold_start_*`` parameters.

User-personalization engine choice (``algorithm="auto"``): EASE (exact,
most accurate in spec 70 §4.2, cubic in min(users, items)) when
``min(users with events, items with events) <= EASE_MAX_DIM``; otherwise
implicit ALS, whose cost is linear in the interactions and which scales to
large catalogues. Fold-in histories are recency-weighted (half-life 50
events for v1 recipes, 20 for v2 — "stronger recency weighting", spec 70 §0;
``recency_mask=false`` turns it off). This lifted nDCG@10 on ml-latest-small
from 0.101 to 0.120 for EASE and 0.081 to 0.093 for iALS (bench/engine_quality.py).

Scores (engine/base.py): every learned model is **repeat-aware** — it measures
at training time how often users re-interact with an item (``repeat_rate``)
and gives the user's history items that share of the probability mass (0 on
MovieLens ratings: history items are never re-recommended), as a sequence
model trained on next-item prediction would learn. The user-personalization
models also get a **calibrated temperature** (engine/calibration.py): T is
fitted by maximum likelihood of held-out next items on a Personalize-style
holdout of the training data, so scores are calibrated next-item
probabilities (ml-latest-small, EASE: T = 0.051, median top-1 score 0.004,
90th percentile 0.12, instead of a flat 1/9724 = 0.0001 for everyone; held-out
NLL 9.05 → 8.39 nats). Ranking metrics are unchanged (the holdout excludes
history items and T keeps the order); training fits a second, probe model on
the holdout's training users. For primal EASE the probe costs no second Gram
matrix or inverse: its inverse is a rank-t downdate of the full model's
(Woodbury, t = test users; :meth:`EASEModel.fit_with_probe`), so a solution
version on the 1M-interaction benchmark (6k users × 4k items) is one Gram
product, one Cholesky inverse, the downdate and the calibration.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import hpo as _hpo
from .base import Recommender, histories_to_csr, measure_repeat_rate, recency_weights, softmax, top_k
from .calibration import fit_temperature, train_calibrated
from .ease import EASEModel
from .ials import IALSModel
from .interactions import Interactions, from_arrays
from .metrics import METRIC_KEYS, evaluate_model, split_holdout
from .nba import NBA_METRIC_KEYS, ActionData, NextBestActionModel
from .params import hp_bool, hp_float, hp_int, percentile_filter
from .popularity import PopularityModel
from .segments import SEGMENT_METRIC_KEYS, segment_metrics, split_per_user, users_for_item, users_for_items
from .similar_items import SimilarItemsModel, item_features
from .sims import SimsModel
from .trending import TrendingModel, trend_prediction_accuracy, trend_window_seconds

__all__ = [
    "train", "train_and_evaluate", "update", "hpo", "family", "check_minimum_data", "metric_keys",
    "RECIPES", "EASE_MAX_DIM",
    "Interactions", "from_arrays", "Recommender", "ActionData",
    "EASEModel", "IALSModel", "PopularityModel", "SimsModel", "SimilarItemsModel", "TrendingModel",
    "NextBestActionModel", "item_features", "users_for_item", "users_for_items",
    "histories_to_csr", "recency_weights", "softmax", "top_k",
    "measure_repeat_rate", "fit_temperature", "train_calibrated",
]

#: Largest min(users, items) for which the user-personalization recipes use EASE: the float32
#: Cholesky inverse of a 5000² Gram matrix takes ~1 s on 2 cores and B takes 100 MB.
EASE_MAX_DIM = 5000
#: iALS iterations of the full-data model when it is warm-started from the holdout probe's item factors
#: (the probe, trained on 90 % of the users, has run the full 15).
WARM_ITERATIONS = 3
#: EASE's ridge λ (spec 70 §4.2: λ ∈ {100, 300, 1000} within ±0.01 nDCG@10 on MovieLens).
EASE_L2 = 100.0

MIN_INTERACTIONS = 1000
MIN_USERS_WITH_2 = 25

UP, POPULARITY, TRENDING, SIMS, SIMILAR_ITEMS, SEGMENTS, NBA = (
    "up", "popularity", "trending", "sims", "similar_items", "segments", "nba")

#: recipe name (ARN suffix after ``arn:aws:personalize:::recipe/``) → (family, fold-in half-life in events)
RECIPES: dict[str, tuple[str, float | None]] = {
    "aws-user-personalization": (UP, 50.0),
    "aws-user-personalization-v2": (UP, 20.0),
    "aws-personalized-ranking": (UP, 50.0),
    "aws-personalized-ranking-v2": (UP, 20.0),
    "aws-hrnn": (UP, 50.0),
    "aws-hrnn-metadata": (UP, 50.0),
    "aws-hrnn-coldstart": (UP, 50.0),
    "aws-vod-top-picks": (UP, 20.0),
    "aws-ecomm-recommended-for-you": (UP, 20.0),
    "aws-item-affinity": (SEGMENTS, 50.0),
    "aws-item-attribute-affinity": (SEGMENTS, 50.0),
    "aws-popularity-count": (POPULARITY, None),
    "aws-vod-most-popular": (POPULARITY, None),
    "aws-ecomm-popular-items-by-views": (POPULARITY, None),
    "aws-ecomm-popular-items-by-purchases": (POPULARITY, None),
    "aws-trending-now": (TRENDING, None),
    "aws-vod-trending-now": (TRENDING, None),
    "aws-sims": (SIMS, None),
    "aws-vod-because-you-watched-x": (SIMS, None),
    "aws-ecomm-frequently-bought-together": (SIMS, None),
    "aws-ecomm-customers-who-viewed-x-also-viewed": (SIMS, None),
    "aws-similar-items": (SIMILAR_ITEMS, None),
    "aws-vod-more-like-x": (SIMILAR_ITEMS, None),
    "aws-next-best-action": (NBA, None),
}


def _recipe(recipe_name: str) -> tuple[str, str, float | None]:
    name = recipe_name.rsplit("/", 1)[-1]
    if name not in RECIPES:
        raise NotImplementedError(
            f"recipe {name!r} has no engine in localpersonalize; supported: {', '.join(sorted(RECIPES))}")
    fam, half_life = RECIPES[name]
    return name, fam, half_life


def family(recipe_name: str) -> str:
    """The engine family of a recipe (``up``, ``popularity``, ``trending``, ``sims``,
    ``similar_items``, ``segments``, ``nba``). Raises NotImplementedError for an unknown recipe."""
    return _recipe(recipe_name)[1]


def metric_keys(recipe_name: str) -> tuple[str, ...]:
    """The offline metric keys of the recipe's family (spec 30 §8.4)."""
    fam = family(recipe_name)
    if fam == SEGMENTS:
        return SEGMENT_METRIC_KEYS
    if fam == NBA:
        return NBA_METRIC_KEYS
    if fam == TRENDING:
        return METRIC_KEYS + ("trend_prediction_accuracy",)
    return METRIC_KEYS


def _up_engine(data: Interactions, algorithm: str) -> str:
    """The user-personalization engine for ``data``: ``algorithm`` unless "auto", then "ease" when
    ``min(users with events, items with events) <= EASE_MAX_DIM``, else "ials" (module docstring)."""
    if algorithm != "auto":
        return algorithm
    n_u = np.count_nonzero(np.bincount(data.user_idx, minlength=data.n_users))
    n_i = np.count_nonzero(np.bincount(data.item_idx, minlength=data.n_items))
    return "ease" if min(n_u, n_i) <= EASE_MAX_DIM else "ials"


class _UPFitter:
    """The user-personalization fit of a solution's hyperparameters: ``fitter(data, warm=None)`` → EASE or
    iALS model with the recipe's recency weighting (module docstring), after the featurization filters;
    :meth:`with_probe` → the full model and its holdout probe."""

    def __init__(self, hp: dict, seed: int, algorithm: str, half_life: float | None):
        if algorithm not in ("auto", "ease", "ials"):
            raise ValueError(f"unknown algorithm {algorithm!r}; use 'auto', 'ease' or 'ials'")
        self.hp, self.seed, self.algorithm = hp, seed, algorithm
        self.factors = hp_int(hp, "hidden_dimension", 64, 1, 1024)
        recency = hp_bool(hp, "recency_mask", True) and hp_bool(hp, "apply_recency_bias", True)
        self.half_life = half_life if recency else None

    def __call__(self, data: Interactions, warm: Recommender | None = None, engine: str | None = None
                 ) -> Recommender:
        return _featurized(lambda kept: self._fit(kept, warm, engine or _up_engine(kept, self.algorithm)),
                           self.hp)(data)

    def _fit(self, data: Interactions, warm: Recommender | None, alg: str) -> Recommender:
        if alg == "ease":
            model = EASEModel.fit(data, l2=EASE_L2)
        elif isinstance(warm, IALSModel) and warm.item_factors.shape[1] == self.factors:
            model = IALSModel.fit(data, factors=self.factors, seed=self.seed, iterations=WARM_ITERATIONS,
                                  item_init=warm.item_factors)
        else:
            model = IALSModel.fit(data, factors=self.factors, seed=self.seed)
        model.history_half_life = self.half_life
        return model

    def with_probe(self, data: Interactions, split) -> tuple[Recommender, Recommender]:
        """``(model on data, probe on split.train)``, both of the engine :func:`_up_engine` picks for ``data``
        (the probe calibrates the model's T, so it is the same kind of model). EASE without a featurization
        filter: both from one Gram matrix and one inverse (:meth:`EASEModel.fit_with_probe`); otherwise the
        probe is fitted first and warm-starts the full iALS model."""
        alg = _up_engine(data, self.algorithm)
        if alg == "ease" and percentile_filter(data, self.hp) is data:
            model, probe = EASEModel.fit_with_probe(data, split.train, split.test_users, l2=EASE_L2)
            model.history_half_life = probe.history_half_life = self.half_life
            return model, probe
        probe = self(split.train, engine=alg)
        return self(data, probe, engine=alg), probe


def _featurized(fit, hp: dict):
    """``fit`` on the events kept by the featurization percentile filters (engine/params.py), with the
    popularity (cold-start and fallback ranking) of all the events: a filtered-out popular item is still
    what an unknown user or item is answered with (it is not a neighbour or a personal pick)."""
    def wrapped(data: Interactions, *args):
        kept = percentile_filter(data, hp)
        model = fit(kept, *args)
        if kept is not data:
            model.popularity = PopularityModel.fit(data).popularity
        return model

    return wrapped


def _fitter(fam: str, hp: dict, seed: int, algorithm: str, half_life, item_features):
    """fit(interactions) → model of family ``fam`` (not calibrated)."""
    if fam in (UP, SEGMENTS):
        return _UPFitter(hp, seed, algorithm, half_life)
    if fam == POPULARITY:
        return PopularityModel.fit
    if fam == TRENDING:
        window = trend_window_seconds(hp.get("trend_discovery_frequency"))
        return lambda data: TrendingModel.fit(data, window)
    if fam == SIMS:
        d = hp_float(hp, "popularity_discount_factor", 0.5, 0.0, 1.0)
        m = hp_int(hp, "min_cointeraction_count", 3, 0, 10)
        return _featurized(lambda data: SimsModel.fit(data, d, m), hp)
    if fam == SIMILAR_ITEMS:
        d = hp_float(hp, "popularity_discount_factor", 0.0, 0.0, 1.0)
        return lambda data: SimilarItemsModel.fit(data, item_features, d)
    raise ValueError(f"family {fam!r} has no item fitter")


def train(recipe_name: str, interactions: Interactions, hyperparameters: dict | None = None,
          seed: int = 0, algorithm: str = "auto", item_features: sp.csr_matrix | None = None,
          actions: ActionData | None = None):
    """Train the engine of ``recipe_name`` on ``interactions``; returns the model.

    ``recipe_name``: a key of :data:`RECIPES`, with or without the ``arn:aws:personalize:::recipe/``
    prefix. ``hyperparameters``: the solution's string-valued hyperparameters (module docstring).
    ``algorithm`` forces the UP engine ("auto", "ease", "ials"). ``item_features``: CSR (n_items, F)
    from :func:`item_features` (Similar-Items). ``actions``: :class:`ActionData` (Next-Best-Action,
    required). The UP family gets a calibrated temperature. Deterministic for the same data and seed.

    Raises NotImplementedError for an unknown recipe and ValueError for a malformed hyperparameter
    value or missing actions. Does not check the minimum data rule (:func:`check_minimum_data`).
    """
    return _train(recipe_name, interactions, hyperparameters, seed, algorithm, item_features, actions, False)[0]


def train_and_evaluate(recipe_name: str, interactions: Interactions, hyperparameters: dict | None = None,
                       seed: int = 0, algorithm: str = "auto", item_features: sp.csr_matrix | None = None,
                       actions: ActionData | None = None) -> tuple[object, dict]:
    """:func:`train` plus the offline metrics of the recipe's family (spec 30 §8.2-§8.4), keys
    :func:`metric_keys`: one model on all data, one probe on the training users of Personalize's holdout
    (it calibrates the UP temperature and is the model the metrics score), so a solution version costs
    two fits (for primal EASE, one fit and a low-rank downdate: ``_UPFitter.with_probe``). Metrics are all
    0.0 when no holdout can be built."""
    return _train(recipe_name, interactions, hyperparameters, seed, algorithm, item_features, actions, True)


def _train(recipe_name, interactions, hyperparameters, seed, algorithm, item_features, actions, evaluate):
    name, fam, half_life = _recipe(recipe_name)
    hp = dict(hyperparameters or {})
    if fam == NBA:
        if actions is None:
            raise ValueError("Next-Best-Action needs the Actions and Action interactions data (ActionData)")
        period = hp_int(hp, "action_optimization_period", 14, 7, 28)
        if evaluate:
            return NextBestActionModel.train_and_evaluate(interactions, actions, period, seed)
        return NextBestActionModel.fit(interactions, actions, period, seed), {}
    fit = _fitter(fam, hp, seed, algorithm, half_life, item_features)
    metrics = {key: 0.0 for key in metric_keys(name)}
    if fam == UP:
        # the probe calibrates T and is what the metrics score
        try:
            split = split_holdout(interactions, seed)
        except ValueError:
            return fit(interactions), metrics
        model, probe = fit.with_probe(interactions, split)
        model.temperature = probe.temperature = fit_temperature(probe, split, seed)
        if evaluate:
            metrics = evaluate_model(probe, split, len(np.unique(interactions.item_idx)))
        return model, metrics
    model = fit(interactions)
    if fam == SEGMENTS:
        # USER_SEGMENTATION: 80/20 of each user's events by time; the probe calibrates T as well
        train_part, test_part = split_per_user(interactions)
        probe = fit(train_part)
        try:
            model.temperature = probe.temperature = fit_temperature(probe, split_holdout(interactions, seed), seed)
        except ValueError:
            pass
        if evaluate and len(test_part):
            metrics = segment_metrics(probe, train_part, test_part)
        return model, metrics
    if not evaluate:
        return model, {}
    try:
        split = split_holdout(interactions, seed)
    except ValueError:
        return model, metrics
    probe = fit(split.train)
    if evaluate:
        metrics = evaluate_model(probe, split, len(np.unique(interactions.item_idx)))
        if fam == TRENDING:
            test = interactions.subset(np.isin(interactions.user_idx, split.test_users))
            metrics["trend_prediction_accuracy"] = trend_prediction_accuracy(probe, test)
    return model, metrics


def update(model, interactions: Interactions):
    """``trainingMode=UPDATE``: the model with the new items/users of ``interactions`` folded in, no full
    retraining (EASE: :meth:`EASEModel.update`, iALS: :meth:`IALSModel.update`).

    Raises NotImplementedError for a model without an update (only the user-personalization models
    have one, as only User-Personalization allows UPDATE).
    """
    if not hasattr(model, "update"):
        raise NotImplementedError(f"{type(model).__name__} cannot be updated; train a FULL version")
    return model.update(interactions)


def hpo(recipe_name: str, interactions: Interactions, hyperparameters: dict, ranges: dict, max_jobs: int,
        max_parallel: int = 1, seed: int = 0, objective: str | None = None, algorithm: str = "auto",
        item_features: sp.csr_matrix | None = None) -> tuple[dict, list]:
    """``performHPO``: random search (engine/hpo.py) over ``ranges`` on the training users of the
    metrics holdout (the metrics' test users are never used to choose). Returns ``(best
    hyperparameters, trials)``; the caller then trains with the best. Raises as :func:`train`."""
    name, fam, half_life = _recipe(recipe_name)
    try:
        outer = split_holdout(interactions, seed)
    except ValueError:
        return dict(hyperparameters), []

    def fit(data, hp):
        return _fitter(fam, hp, seed, algorithm, half_life, item_features)(data)

    return _hpo.random_search(fit, outer.train, dict(hyperparameters), ranges, max_jobs, max_parallel, seed + 1,
                              objective)


def check_minimum_data(interactions: Interactions) -> str | None:
    """Personalize's minimum-data rule for training; returns the failure reason or None.

    Rule (spec 70 §1.1, spec 60 §4.2): at least 1000 interactions and at
    least 25 users with at least 2 interactions each. The returned text names
    the minimum and what was found, e.g. "There are not enough interactions
    in the dataset. The minimum is 1000 interactions; found 30."
    """
    n = len(interactions)
    if n < MIN_INTERACTIONS:
        return (f"There are not enough interactions in the dataset. "
                f"The minimum is {MIN_INTERACTIONS} interactions; found {n}.")
    n2 = int((np.bincount(interactions.user_idx, minlength=interactions.n_users) >= 2).sum())
    if n2 < MIN_USERS_WITH_2:
        return (f"There are fewer than {MIN_USERS_WITH_2} users with at least 2 interactions "
                f"each in the dataset. The minimum is {MIN_USERS_WITH_2} users; found {n2}.")
    return None
