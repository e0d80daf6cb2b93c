"""Amazon Personalize's offline metrics and holdout (spec 30-workflow-and-inference §8).

Holdout (§8.2, for every recipe type except USER_SEGMENTATION):

1. 10 % of users (with all their interactions) are test users, chosen with a
   fixed seed; the other 90 % train the model.
2. Each test user's interactions are sorted by time; the oldest 90 % are the
   model's input (history), the newest 10 % are the ground truth.

Choices the guide leaves open (documented per spec 70-engine-notes §4.1):

* Only users with ≥ 2 interactions can be test users (one history + one truth
  event); users with fewer always stay in training. The number of test users
  is ``max(1, round(0.1 × users with any interaction))``, capped by the
  number of eligible users.
* A test user with n events gets ``clamp(round(0.1 n), 1, n-1)`` truth events
  (round half up), so each keeps ≥ 1 history and ≥ 1 truth event. Ties in
  time keep input order.
* Items in a test user's input history are excluded from their recommendation
  list, and truth items already in the history are dropped from the truth
  (re-interactions cannot be recommended under that rule). A test user whose
  truth becomes empty is left out of the averages.
* ``coverage`` = distinct items in the top-25 lists of the test users ÷
  distinct items in the whole dataset.
* Values are returned unrounded (the guide shows 4 decimals).

Definitions (§8.3): relevant = recommended item in the user's truth; rank is
1-based. MRR@25 = 1/rank of the first relevant item in the top 25 (0 if none);
nDCG@K: gain 1/log(1+p), ideal DCG over ``min(#relevant, K)`` positions;
precision@K = hits in top K / K. All averaged over test users.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .base import Recommender, histories_to_csr
from .interactions import Interactions

__all__ = ["METRIC_KEYS", "HoldoutSplit", "split_holdout", "ranking_metrics",
           "user_ranking_metrics", "mean_reciprocal_rank", "evaluate_model", "evaluate"]

METRIC_KEYS = (
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
)


@dataclass
class HoldoutSplit:
    """Result of :func:`split_holdout`.

    train : Interactions of the training users (same index spaces as the input).
    test_users : int32[t] test user indices (sorted).
    history : CSR float32 (t, n_items), binary, row r = input history of test_users[r].
    history_lists : list of int32 arrays, the same histories in time order (oldest first).
    truth : list of int32 arrays, distinct ground-truth items per test user
        (newest events, minus items already in the history; may be empty).
    truth_events : list of int32 arrays, the newest events themselves per test
        user, in time order, repeats and history items kept (never empty); used
        to calibrate score temperatures (engine/calibration.py).
    """

    train: Interactions
    test_users: np.ndarray
    history: sp.csr_matrix
    history_lists: list
    truth: list
    truth_events: list = field(default_factory=list)


def split_holdout(interactions: Interactions, seed: int = 0, test_user_fraction: float = 0.1,
                  truth_fraction: float = 0.1) -> HoldoutSplit:
    """Personalize's user-level 90/10 split + chronological 90/10 split of test users.

    Deterministic for a given ``seed`` (``numpy.random.default_rng(seed)``).
    Raises ValueError if no user has ≥ 2 interactions.
    """
    counts = np.bincount(interactions.user_idx, minlength=interactions.n_users)
    active = np.flatnonzero(counts > 0)
    eligible = np.flatnonzero(counts >= 2)
    if len(eligible) == 0:
        raise ValueError("no user has at least 2 interactions; cannot build a test set")
    n_test = int(np.floor(test_user_fraction * len(active) + 0.5))
    n_test = min(max(1, n_test), len(eligible))
    rng = np.random.default_rng(seed)
    test_users = np.sort(rng.choice(eligible, size=n_test, replace=False)).astype(np.int32)

    is_test = np.zeros(interactions.n_users, bool)
    is_test[test_users] = True
    train = interactions.subset(~is_test[interactions.user_idx])

    # the test users' events in time order (a sort of their events only, not of the whole data)
    sel = np.flatnonzero(is_test[interactions.user_idx])
    sel = sel[np.lexsort((sel, interactions.timestamp[sel], interactions.user_idx[sel]))]
    items = interactions.item_idx[sel]
    n = counts[test_users].astype(np.int64)
    starts = np.r_[0, np.cumsum(n)[:-1]]
    n_truth = np.minimum(np.maximum(1, np.floor(truth_fraction * n + 0.5).astype(np.int64)), n - 1)
    cuts = starts + n - n_truth                             # first truth event of each test user
    pieces = np.split(items, np.ravel(np.column_stack([cuts, starts + n]))[:-1])
    hist, events = pieces[0::2], pieces[1::2]
    # truth = distinct newest items not in the history: (row, item) keys, sorted per row as np.unique does
    row = np.repeat(np.arange(len(n)), n)
    in_truth = np.arange(len(items)) >= cuts[row]
    key = row * np.int64(interactions.n_items) + items
    t_key = np.unique(key[in_truth])
    t_key = t_key[~np.isin(t_key, key[~in_truth])]
    t_row = t_key // interactions.n_items
    truth = np.split((t_key - t_row * interactions.n_items).astype(np.int32),
                     np.cumsum(np.bincount(t_row, minlength=len(n)))[:-1])
    return HoldoutSplit(train, test_users, histories_to_csr(hist, interactions.n_items), hist, truth, events)


def user_ranking_metrics(recommended, relevant, k: int) -> dict[str, float]:
    """Metrics of ONE ranked list (guide's worked-example form).

    ``recommended`` int[m] ranked items (position 1 first; -1 = empty slot),
    ``relevant`` int[r] truth items. Returns ``reciprocal_rank`` (first hit in
    the top k), ``ndcg`` and ``precision`` at k.
    Guide example: hits at positions 2 and 5, k=5 → 0.5, 0.6241, 0.4.
    """
    rec = np.asarray(recommended)[:k]
    hit = np.isin(rec, np.asarray(relevant)) & (rec >= 0)
    pos = np.flatnonzero(hit) + 1
    rr = 1.0 / pos[0] if len(pos) else 0.0
    dcg = np.sum(1.0 / np.log(1.0 + pos))
    n_ideal = min(len(np.unique(relevant)), k)
    idcg = np.sum(1.0 / np.log(1.0 + np.arange(1, n_ideal + 1)))
    return {"reciprocal_rank": float(rr), "ndcg": float(dcg / idcg) if idcg > 0 else 0.0,
            "precision": float(hit.sum() / k)}


def mean_reciprocal_rank(first_hit_ranks) -> float:
    """Mean of 1/rank over users; rank 0 or None = no hit (contributes 0). Guide: (4, 2, 6) → 0.3056."""
    r = np.array([0 if x is None else x for x in first_hit_ranks], dtype=np.float64)
    return float(np.mean(np.divide(1.0, r, out=np.zeros_like(r), where=r > 0))) if len(r) else 0.0


def ranking_metrics(recommended: np.ndarray, truth: list, n_catalogue_items: int) -> dict[str, float]:
    """All Personalize metric keys for a batch of ranked lists.

    ``recommended`` int[t, ≥25] ranked item indices per test user (-1 padding);
    ``truth`` list of t int arrays. Users with empty truth are skipped;
    ``coverage`` uses every row. ``n_catalogue_items`` = distinct items in the
    dataset (coverage denominator). Returns a dict keyed by METRIC_KEYS: the means of
    :func:`user_ranking_metrics` over the users, computed for all rows at once.
    """
    recommended = np.asarray(recommended)
    out = {key: 0.0 for key in METRIC_KEYS}
    top25 = recommended[:, :25]
    shown = np.unique(top25[top25 >= 0])
    out["coverage"] = float(len(shown) / n_catalogue_items) if n_catalogue_items else 0.0
    rows = np.array([r for r in range(len(truth)) if len(truth[r])], dtype=np.int64)
    if not len(rows):
        return out
    # user_ranking_metrics for every row at once: hits by (row, item) keys, gains 1/log(1 + position)
    rel = [np.unique(np.asarray(truth[r], dtype=np.int64)) for r in rows]
    n_rel = np.array([len(t) for t in rel])
    rel_key = np.repeat(np.arange(len(rows)), n_rel) * np.int64(2 ** 32) + np.concatenate(rel)
    rec = top25[rows].astype(np.int64)
    hit = np.isin(np.arange(len(rows))[:, None] * np.int64(2 ** 32) + rec, rel_key) & (rec >= 0)
    gain = 1.0 / np.log(1.0 + np.arange(1, 26))
    ideal = np.r_[0.0, np.cumsum(gain)]                     # ideal[n] = DCG of n hits at the top
    for k in (5, 10, 25):
        h = hit[:, :k]
        dcg = (h * gain[:h.shape[1]]).sum(axis=1)
        out[f"normalized_discounted_cumulative_gain_at_{k}"] = float(np.mean(dcg / ideal[np.minimum(n_rel, k)]))
        out[f"precision_at_{k}"] = float(np.mean(h.sum(axis=1) / k))
    first = np.where(hit.any(axis=1), 1.0 / (1 + np.argmax(hit, axis=1)), 0.0)
    out["mean_reciprocal_rank_at_25"] = float(np.mean(first))
    return out


def evaluate_model(model: Recommender, split: HoldoutSplit, n_catalogue_items: int) -> dict[str, float]:
    """Score test users of ``split`` by fold-in of their history; top 25, history excluded."""
    recs, _ = model.recommend_many(model.histories_csr(split.history_lists), 25, exclude_seen=True)
    return ranking_metrics(recs, split.truth, n_catalogue_items)


def evaluate(train_fn: Callable[[Interactions], Recommender], interactions: Interactions,
             seed: int = 0, return_details: bool = False):
    """Personalize offline evaluation: split, train ``train_fn(train_interactions)``, score.

    Returns ``dict[str, float]`` keyed by METRIC_KEYS; with
    ``return_details=True`` returns ``(metrics, {"train_seconds": float,
    "n_test_users": int, "model": model})``. The coverage denominator is the
    number of distinct items in ``interactions``.
    """
    split = split_holdout(interactions, seed)
    t0 = time.perf_counter()
    model = train_fn(split.train)
    train_s = time.perf_counter() - t0
    n_cat = len(np.unique(interactions.item_idx))
    m = evaluate_model(model, split, n_cat)
    if return_details:
        return m, {"train_seconds": train_s, "n_test_users": len(split.test_users), "model": model}
    return m
