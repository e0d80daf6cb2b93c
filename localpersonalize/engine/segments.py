"""User segments (USER_SEGMENTATION: ``aws-item-affinity``, ``aws-item-attribute-affinity``) and their metrics.

Both recipes score users with the user-personalization model (spec 70 §0, §1.5: "reuses the UP model;
segments are a column of the score matrix"): the affinity of user u for an item set S is the
probability that u's next interaction is an item of S, ``Σ_{i∈S} score_ui``, with ``score`` the
catalogue scores of :class:`~.base.Recommender` (repeat-aware, so with repeat rate 0 a user's own
history items do not count). Item-Affinity uses one item per segment; Item-Attribute-Affinity uses
the items matching the attribute query (the caller resolves the query to an item set, e.g. with the
filter expression evaluator). Segments are sorted by that probability, descending (guide L7507).

Offline metrics (spec 30 §8.2-§8.4, guide L11860, L12076-L12082): each user's events are split by
time, oldest 80 % train and newest 20 % test (:func:`split_per_user`); for each test item, the real
users are those with the item in their test events; K = 1 % of the users (at least 1).
``hits_at_1_percent`` = mean over test items of |top-K predicted ∩ real|, ``recall_at_1_percent`` =
mean of that count ÷ K (the guide: "the average share of the predicted top-K users that match real
users"), ``coverage`` = distinct users in any top-K list ÷ users with events. Test items are the
(at most 500, the batch segment job's limit) items with the most real users; ties by index.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .interactions import Interactions

__all__ = ["users_for_items", "users_for_item", "split_per_user", "segment_metrics", "SEGMENT_METRIC_KEYS",
           "MAX_SEGMENT_ITEMS"]

SEGMENT_METRIC_KEYS = ("coverage", "hits_at_1_percent", "recall_at_1_percent")
#: Items per batch segment job (guide L7524); also the number of test items in the metrics.
MAX_SEGMENT_ITEMS = 500
_BLOCK_CELLS = 4_000_000


def users_for_items(model: Recommender, histories: sp.csr_matrix, item_sets: list, k: int
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Top-``k`` users per item set, vectorised over users in blocks.

    ``histories``: CSR (n_users, n_items), row u = user u's history (build with
    ``model.histories_csr``; users without history are scored by popularity). ``item_sets``: list of
    int arrays of item indices (items outside the model are ignored; an empty set gives no users).
    Returns, per set, ``(users int32[k'], probability float64[k'])`` sorted by descending probability,
    ties by user index; users whose probability is 0 are left out. Memory: blocks of ~4M score cells.
    """
    histories = sp.csr_matrix(histories, dtype=np.float32)
    n_users = histories.shape[0]
    sets = [np.unique(np.asarray(s, np.int64)) for s in item_sets]
    sets = [s[(s >= 0) & (s < model.n_items)] for s in sets]
    best_u = [np.empty(0, np.int64) for _ in sets]
    best_p = [np.empty(0) for _ in sets]
    step = max(1, _BLOCK_CELLS // max(1, model.n_items))
    for s0 in range(0, n_users, step):
        log_p, _ = model.log_scores_many(histories[s0:s0 + step])
        for j, items in enumerate(sets):
            if not len(items):
                continue
            p = np.exp(log_p[:, items]).sum(axis=1)
            u = np.arange(s0, s0 + len(p))
            cu, cp = np.r_[best_u[j], u], np.r_[best_p[j], p]
            keep = cp > 0
            cu, cp = cu[keep], cp[keep]
            order = np.lexsort((cu, -cp))[:k]
            best_u[j], best_p[j] = cu[order], cp[order]
    return [(u.astype(np.int32), p) for u, p in zip(best_u, best_p)]


def users_for_item(model: Recommender, histories: sp.csr_matrix, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` users most likely to interact with ``item`` next: :func:`users_for_items` of one item."""
    return users_for_items(model, histories, [np.array([item])], k)[0]


def split_per_user(interactions: Interactions, test_fraction: float = 0.2) -> tuple[Interactions, Interactions]:
    """USER_SEGMENTATION holdout: each user's newest ``test_fraction`` of events (round half up, at
    least 1 when the user has ≥ 2 events, none for a single event) is test, the rest train.
    Returns ``(train, test)`` with the input's index spaces. Deterministic (no randomness)."""
    order = interactions.time_order()
    users = interactions.user_idx[order]
    counts = np.bincount(users, minlength=interactions.n_users)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    pos = np.arange(len(order)) - start[users]
    n = counts[users]
    n_test = np.where(n >= 2, np.clip(np.floor(test_fraction * n + 0.5), 1, n - 1), 0)
    is_test = np.zeros(len(interactions), bool)
    is_test[order] = pos >= n - n_test
    return interactions.subset(~is_test), interactions.subset(is_test)


def segment_metrics(model: Recommender, train: Interactions, test: Interactions) -> dict[str, float]:
    """USER_SEGMENTATION metrics of ``model`` (trained on ``train``) against ``test`` (module docstring)."""
    users_with = np.unique(np.r_[train.user_idx, test.user_idx])
    n_users = max(1, len(users_with))
    K = max(1, int(round(0.01 * n_users)))
    pairs = np.unique(test.user_idx.astype(np.int64) * test.n_items + test.item_idx)
    t_users, t_items = pairs // test.n_items, pairs % test.n_items
    counts = np.bincount(t_items, minlength=test.n_items)
    items = np.lexsort((np.arange(test.n_items), -counts))[:MAX_SEGMENT_ITEMS]
    items = items[counts[items] > 0]
    out = {key: 0.0 for key in SEGMENT_METRIC_KEYS}
    if not len(items):
        return out
    indptr, seq = train.user_histories()
    H = model.histories_csr([seq[indptr[u]:indptr[u + 1]] for u in range(train.n_users)])
    found = users_for_items(model, H, [np.array([i]) for i in items], K)
    hits, shown = [], set()
    for i, (u, _) in zip(items, found):
        real = t_users[t_items == i]
        hits.append(len(np.intersect1d(u, real)))
        shown.update(u.tolist())
    out["hits_at_1_percent"] = float(np.mean(hits))
    out["recall_at_1_percent"] = float(np.mean(hits) / K)
    out["coverage"] = float(len(shown) / n_users)
    return out
