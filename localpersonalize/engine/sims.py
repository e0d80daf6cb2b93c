"""SIMS: item-to-item collaborative filtering on co-occurrence (``aws-sims``).

Rule (spec 70-engine-notes §0/§1.2, spec 20 SIMS hyperparameters):
``C = XᵀX`` on the binary user × item matrix (C_ij = users who interacted
with both i and j, n_i = C_ii); pairs with ``C_ij < min_cointeraction_count``
are dropped; ``sim(i, j) = C_ij / (n_i · n_j) ** d`` with
``d = popularity_discount_factor`` (0.5 = cosine; 0 = raw co-counts, i.e.
favours popular items; 1 = strongest discount). Each item keeps its
``max_neighbors`` most similar items (sparse, bounded memory). Items without
neighbours (unknown or too sparse) fall back to the popular items, as the
guide describes for SIMS.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender, top_k
from .interactions import Interactions

__all__ = ["SimsModel", "neighbours_or_popular"]


def _prune_rows(S: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each CSR row (ties → lower column index)."""
    S = S.tocsr()
    lens = np.diff(S.indptr)
    if lens.max(initial=0) <= k:
        return S
    keep = np.ones(S.nnz, bool)
    for r in np.flatnonzero(lens > k):  # only over-full rows need a sort
        s, e = S.indptr[r], S.indptr[r + 1]
        order = np.lexsort((S.indices[s:e], -S.data[s:e]))
        keep[s + order[k:]] = False
    rows = np.repeat(np.arange(S.shape[0]), lens)
    return sp.csr_matrix((S.data[keep], (rows[keep], S.indices[keep])), shape=S.shape)


class SimsModel(Recommender):
    """Co-occurrence item-kNN.

    ``similarity``: CSR float32 (n_items, n_items), row i = neighbours of i
    (diagonal excluded). Affinity of a history h = ``Σ_{i∈h} w_i · S[i, :]``.
    """

    name = "sims"

    def __init__(self, n_items, popularity, similarity):
        super().__init__(n_items, popularity)
        self.similarity = similarity

    @classmethod
    def fit(cls, interactions: Interactions, popularity_discount_factor: float = 0.5,
            min_cointeraction_count: int = 3, max_neighbors: int = 200) -> "SimsModel":
        """Build the pruned similarity matrix. O(Σ_u n_u²) time; deterministic.

        Sets ``repeat_rate`` from ``interactions`` (repeat-aware scoring of
        :meth:`recommend`, base.py); :meth:`similar_items` is unaffected.

        Raises ValueError if popularity_discount_factor is outside [0, 1] or
        min_cointeraction_count < 0 (ranges from the guide).
        """
        d = float(popularity_discount_factor)
        if not 0.0 <= d <= 1.0:
            raise ValueError(f"popularity_discount_factor must be in [0, 1]; got {d}")
        if min_cointeraction_count < 0:
            raise ValueError(f"min_cointeraction_count must be >= 0; got {min_cointeraction_count}")
        X = interactions.to_csr(binary=True)
        C = (X.T @ X).tocsr()
        n = C.diagonal().astype(np.float64)
        C.setdiag(0)
        C.eliminate_zeros()
        C.data[C.data < max(1, min_cointeraction_count)] = 0
        C.eliminate_zeros()
        C = C.tocoo()
        sim = C.data / (n[C.row] * n[C.col]) ** d
        S = sp.csr_matrix((sim.astype(np.float32), (C.row, C.col)), shape=C.shape)
        return cls(interactions.n_items, n, _prune_rows(S, max_neighbors)).learn_repeat_rate(interactions)

    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """float64[n, n_items]: weighted sum of the neighbour rows of the history items."""
        return np.asarray((sp.csr_matrix(histories, dtype=np.float32) @ self.similarity).toarray(),
                          dtype=np.float64)

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k neighbours of ``item`` by similarity, padded with popular items.

        Returns ``(items int32[k'], similarity float64[k'])``; popular fill-ins
        (and an unknown item's whole list) carry similarity 0.0. ``item``
        itself is never returned.
        """
        return neighbours_or_popular(self.similarity, self.popularity, self.trained, item, k)


def neighbours_or_popular(similarity: sp.csr_matrix, popularity: np.ndarray, eligible: np.ndarray,
                          item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Item-to-item top-k shared by SIMS and Similar-Items: the ``eligible`` (bool[n]) neighbours of
    ``item`` with similarity > 0 from row ``item`` of ``similarity`` (CSR (n, n)), best first (ties by
    index), then the most popular remaining items (``popularity`` > 0) with similarity 0.0. An
    ``item`` outside [0, n) gets only popular items; ``item`` itself is never returned.
    Returns ``(items int32[k'], similarity float64[k'])``.
    """
    n = similarity.shape[0]
    row = np.full(n, -np.inf)
    if 0 <= item < n:
        s, e = similarity.indptr[item], similarity.indptr[item + 1]
        row[similarity.indices[s:e]] = similarity.data[s:e]
        row[~eligible | (row <= 0)] = -np.inf
    idx, vals = top_k(row[None], k)
    keep = idx[0] >= 0
    idx, vals = idx[0][keep], vals[0][keep]
    if len(idx) < k:
        pop = np.where(popularity > 0, popularity, -np.inf)
        pop[idx] = -np.inf
        if 0 <= item < n:
            pop[item] = -np.inf
        fill, _ = top_k(pop[None], k - len(idx))
        fill = fill[0][fill[0] >= 0]
        idx = np.r_[idx, fill].astype(np.int32)
        vals = np.r_[vals, np.zeros(len(fill))]
    return idx, vals
