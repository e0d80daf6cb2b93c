"""Shared scoring interface of every item recommender in the engine.

A model is trained once (see the ``train`` registry in ``engine/__init__.py``)
and then answers for any user given that user's **history** (fold-in): the
caller passes the user's item indices (training history plus newer real-time
events), so new users and PutEvents are served without retraining.

Scores follow Personalize's documented formula: for user u the score of item
i is ``exp(a_ui / T) / sum_j exp(a_uj / T)`` over the whole catalogue, where
``a`` is the model's affinity and ``T = self.temperature`` (1.0 by default,
the literal formula of "How recommendation scoring works"; spec
70-engine-notes §1.1). Scores therefore sum to 1 over all items and the top
score can be tiny. Items absent from the training data (never interacted
with) get logit ``-inf``, i.e. score 0, and are never recommended (the
Personalized-Ranking rule "an item not present in the latest training gets
score 0", spec 70 §1.4). An empty history is served from the popularity
ranking with scores = share of unique users (cold start, spec 70 §7.3).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["Recommender", "top_k", "softmax", "histories_to_csr", "recency_weights"]

# Rows of a dense (users x items) score block computed at once in recommend_many.
_BLOCK_CELLS = 4_000_000


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of float64[..., m]; ``-inf`` entries get probability 0.

    A row that is entirely ``-inf`` returns all zeros (rather than NaN).
    """
    logits = np.asarray(logits, dtype=np.float64)
    mx = np.max(logits, axis=-1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    e = np.exp(logits - mx)
    s = e.sum(axis=-1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k columns of each row of ``scores`` float64[n, m] (``-inf`` = not eligible).

    Returns ``(idx int32[n, k'], vals float64[n, k'])`` with ``k' = min(k, m)``,
    sorted by descending score, ties broken by ascending column index (so the
    result is deterministic). Ineligible slots (fewer than k finite scores in a
    row) are padded with index -1 and value NaN. Uses ``np.argpartition``.
    """
    scores = np.atleast_2d(scores)
    n, m = scores.shape
    k = int(max(0, min(k, m)))
    if k == 0 or n == 0:
        return np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float64)
    if k < m:
        cand = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        cand = np.broadcast_to(np.arange(m), (n, m)).copy()
    vals = np.take_along_axis(scores, cand, axis=1)
    # sort by (-score, index) within each row
    order = np.lexsort((cand, -vals), axis=1)
    idx = np.take_along_axis(cand, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1)
    bad = ~np.isfinite(vals)
    idx[bad] = -1
    vals[bad] = np.nan
    return idx, vals


def recency_weights(n: int, half_life: float | None) -> np.ndarray:
    """float32[n] weights of a time-ordered history (oldest first): ``0.5 ** (age / half_life)``.

    ``age`` counts events back from the newest (newest = 0 → weight 1).
    ``half_life`` None or ≤ 0 → all ones.
    """
    if not half_life or half_life <= 0:
        return np.ones(n, np.float32)
    age = np.arange(n - 1, -1, -1, dtype=np.float64)
    return (0.5 ** (age / half_life)).astype(np.float32)


def histories_to_csr(histories: list, n_items: int, half_life: float | None = None) -> sp.csr_matrix:
    """CSR float32 (len(histories), n_items) from a list of int item-index arrays.

    Each history must be in time order (oldest first) when ``half_life`` is
    given: entry values are :func:`recency_weights`; an item repeated in a
    history keeps its largest (most recent) weight. Without ``half_life`` the
    matrix is binary.
    """
    n = len(histories)
    lens = np.array([len(h) for h in histories], dtype=np.int64)
    if n == 0 or lens.sum() == 0:
        return sp.csr_matrix((n, n_items), dtype=np.float32)
    rows = np.repeat(np.arange(n, dtype=np.int64), lens)
    cols = np.concatenate([np.asarray(h, np.int64).ravel() for h in histories])
    w = np.concatenate([recency_weights(len(h), half_life) for h in histories])
    key = rows * n_items + cols
    order = np.lexsort((w, key))
    last = np.r_[key[order][1:] != key[order][:-1], True]
    sel = order[last]
    return sp.csr_matrix((w[sel], (rows[sel], cols[sel])), shape=(n, n_items), dtype=np.float32)


class Recommender:
    """Base class: subclasses implement :meth:`affinity_many`; this class does scoring.

    Attributes
    ----------
    n_items : int
        Catalogue size; item indices are ``0..n_items-1``.
    popularity : float64[n_items]
        Number of distinct training users per item (the Popularity-Count rule).
    temperature : float
        Softmax temperature T (> 0); logits are ``affinity / T``.
    """

    temperature: float = 1.0
    #: Half-life (in events) of the recency weighting applied to a fold-in
    #: history; None = all events weigh 1. See :func:`recency_weights`.
    history_half_life: float | None = None

    def __init__(self, n_items: int, popularity: np.ndarray):
        self.n_items = int(n_items)
        self.popularity = np.asarray(popularity, dtype=np.float64)
        self.trained = self.popularity > 0

    # ------------------------------------------------------------ to override
    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """Affinity float64[n, n_items] of each history row (CSR float32 (n, n_items), values = weights)."""
        raise NotImplementedError

    # --------------------------------------------------------------- logits
    def popularity_logits(self) -> np.ndarray:
        """float64[n_items] = log(unique users); softmax of it = each item's share of users."""
        with np.errstate(divide="ignore"):
            return np.log(self.popularity)

    def logits_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """Logits float64[n, n_items]: affinity / T, untrained items -inf, empty rows = popularity."""
        histories = sp.csr_matrix(histories, dtype=np.float32)
        out = np.empty((histories.shape[0], self.n_items), dtype=np.float64)
        empty = np.diff(histories.indptr) == 0
        if (~empty).any():
            a = self.affinity_many(histories[~empty])
            a = a / self.temperature
            a[:, ~self.trained] = -np.inf
            out[~empty] = a
        if empty.any():
            out[empty] = self.popularity_logits()
        return out

    def _row(self, history) -> sp.csr_matrix:
        return self.histories_csr([history])

    def histories_csr(self, histories: list) -> sp.csr_matrix:
        """Model input CSR for time-ordered histories (list of int arrays, oldest first).

        Applies this model's ``history_half_life`` recency weighting; pass the
        result to :meth:`recommend_many`.
        """
        return histories_to_csr([np.asarray(h, dtype=np.int64) for h in histories],
                                self.n_items, self.history_half_life)

    # ------------------------------------------------------------ public API
    def recommend(self, history, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items for ONE user from their history.

        Parameters
        ----------
        history : int array [m]
            Item indices the user interacted with, oldest first (the order
            matters when the model weights recent events; duplicates keep
            their newest position; may be empty → popularity ranking).
        k : int
            Number of items wanted.
        exclude : int array or None
            Item indices that must not be returned. They still count in the
            softmax denominator (scores are over the whole catalogue), they
            are only removed from the ranking.

        Returns
        -------
        items int32[k'], scores float64[k'] with ``k' <= k`` (fewer when not
        enough eligible items), descending by score; ``scores`` are catalogue
        softmax probabilities.
        """
        logits = self.logits_many(self._row(history))[0]
        p = softmax(logits)
        p[~np.isfinite(logits)] = -np.inf
        if exclude is not None and len(exclude):
            p[np.asarray(exclude, dtype=np.int64)] = -np.inf
        p[p == 0] = -np.inf  # unreachable items (untrained / underflow) are not recommended
        idx, vals = top_k(p[None, :], k)
        keep = idx[0] >= 0
        return idx[0][keep], vals[0][keep]

    def recommend_many(self, histories: sp.csr_matrix, k: int, exclude_seen: bool = True
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k for many users at once.

        ``histories`` is a CSR (n_users, n_items) whose row u holds user u's
        history (values are weights; build it with :meth:`histories_csr` to
        get the model's recency weighting, or pass a binary matrix). With
        ``exclude_seen`` the history items are removed from each user's list.
        Returns ``(items int32[n, k], scores float64[n, k])``, padded with -1 /
        NaN where a row has fewer eligible items. Computed in row blocks of
        about 4M score cells to bound memory.
        """
        histories = sp.csr_matrix(histories, dtype=np.float32)
        n = histories.shape[0]
        k_eff = min(k, self.n_items)
        items = np.full((n, k_eff), -1, np.int32)
        scores = np.full((n, k_eff), np.nan)
        step = max(1, _BLOCK_CELLS // max(1, self.n_items))
        for s in range(0, n, step):
            h = histories[s:s + step]
            logits = self.logits_many(h)
            p = softmax(logits)
            p[p == 0] = -np.inf
            if exclude_seen:
                rows = np.repeat(np.arange(h.shape[0]), np.diff(h.indptr))
                p[rows, h.indices] = -np.inf
            items[s:s + step], scores[s:s + step] = top_k(p, k_eff)
        return items, scores

    def score(self, history, items) -> np.ndarray:
        """GetPersonalizedRanking scores: softmax over the given items only.

        ``items`` int[m] (may repeat). Returns float64[m] summing to 1 over
        the distinct trained items; items never seen in training score 0
        (spec 70 §1.4). Empty history → shares of popularity among ``items``.
        """
        items = np.asarray(items, dtype=np.int64)
        logits = self.logits_many(self._row(history))[0]
        uniq, inv = np.unique(items, return_inverse=True)
        p = softmax(logits[uniq])
        return p[inv]

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Items most related to ``item``: by default the fold-in of a one-item history.

        Returns ``(items int32[k'], scores float64[k'])`` excluding ``item`` itself.
        """
        return self.recommend(np.array([item], np.int32), k, exclude=np.array([item]))
