"""Similar-Items (``aws-similar-items``, VOD ``aws-vod-more-like-x``): co-occurrence blended with item metadata.

Documented behaviour (guide L7282-L7318, spec 20 §D.4, spec 70 §1.2): similarity from co-occurrence in
user histories **and** from the item metadata (categorical fields and the one textual field), so that
cold items (fewer than 5 interactions) still get answers; ``popularity_discount_factor`` (default 0.0)
trades popular items (0) against less popular ones (1); an unknown item gets the popular items.

Model (spec 70 §0, "hybrid"):

* **co-occurrence** ``co(i, j) = C_ij / (n_i n_j)^d`` on the binary user × item matrix
  (:class:`~.sims.SimsModel` with ``d = popularity_discount_factor`` and no co-interaction minimum),
  scaled per row to a maximum of 1;
* **metadata** ``meta(i, j)`` = cosine of the items' feature vectors (:func:`item_features`): one-hot
  categorical values (multi-values split on ``|``, one block per column) and TF-IDF of the text field,
  the two parts weighted equally; the ``max_neighbors`` most similar items per item are kept;
* **blend** per query item ``i``: ``sim(i, ·) = a_i co(i, ·) + (1 − a_i) meta(i, ·)`` with
  ``a_i = ½ · n_i / (n_i + 5)`` (``n_i`` = users who interacted with i): an item with no interactions
  is answered from its metadata only, one with many from behaviour and metadata equally (5 = the
  guide's "cold" bound). Without metadata the behaviour part alone ranks.

Items with an Items-dataset row but no interactions are eligible answers (they can be recommended by
metadata); items with neither are never returned. No scores are returned by the recipe.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import scipy.sparse as sp

from .base import Recommender, top_k
from .interactions import Interactions
from .sims import SimsModel, _prune_rows, neighbours_or_popular

__all__ = ["SimilarItemsModel", "item_features", "COLD_INTERACTIONS"]

#: An item with fewer interactions than this is "cold" (guide L7284); also the blend's half-point.
COLD_INTERACTIONS = 5
_TOKEN = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_STOP = frozenset("the and for with this that from are was were has have had its into you your our not "
                  "but all any can will his her their they them then than there what when which who "
                  "how about more most some such only also very just over out one two new".split())
_BLOCK_ROWS = 256


def _l2_rows(M: sp.csr_matrix) -> sp.csr_matrix:
    M = sp.csr_matrix(M, dtype=np.float32)
    norms = np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.diags(inv.astype(np.float32)) @ M


def item_features(n_items: int, item_idx: np.ndarray, categorical: list | None = None,
                  text=None, max_vocabulary: int = 20000) -> sp.csr_matrix:
    """Item metadata vectors: CSR float32 (n_items, n_features), rows L2-normalised (0 rows for no metadata).

    ``item_idx`` int[m]: the item index of each Items-dataset row. ``categorical``: list of object[m]
    arrays (one per categorical column; values ``str`` or None, several values joined by ``|``);
    ``text``: object[m] of ``str``/None (the textual field) or None. Text is tokenised into lower-case
    words of ≥ 2 letters minus a few English stop words, weighted by sublinear TF × smoothed IDF
    ``log((1 + m) / (1 + df)) + 1`` over the ``max_vocabulary`` most frequent terms with df ≥ 2.
    The categorical and text blocks are normalised separately, then summed with equal weight.
    """
    item_idx = np.asarray(item_idx, np.int64)
    blocks = []
    cats = []
    for col in categorical or []:
        rows, vals = [], []
        for r, v in zip(item_idx, col):
            if v is None:
                continue
            for part in str(v).split("|"):
                part = part.strip().lower()
                if part:
                    rows.append(r)
                    vals.append(part)
        if vals:
            uniq, codes = np.unique(np.asarray(vals, dtype=object).astype(str), return_inverse=True)
            cats.append(sp.csr_matrix((np.ones(len(codes), np.float32), (rows, codes)),
                                      shape=(n_items, len(uniq))))
    if cats:
        blocks.append(_l2_rows(sp.hstack(cats).tocsr()))
    if text is not None:
        docs = [[w for w in _TOKEN.findall(str(t).lower()) if w not in _STOP] if t is not None else []
                for t in text]
        df = Counter(w for d in docs for w in set(d))
        vocab = [w for w, c in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if c >= 2][:max_vocabulary]
        if vocab:
            col_of = {w: c for c, w in enumerate(vocab)}
            rows, cols, vals = [], [], []
            for r, d in zip(item_idx, docs):
                for w, tf in Counter(w for w in d if w in col_of).items():
                    rows.append(r)
                    cols.append(col_of[w])
                    vals.append(1.0 + np.log(tf))
            m = len(docs)
            idf = np.log((1.0 + m) / (1.0 + np.array([df[w] for w in vocab], np.float64))) + 1.0
            T = sp.csr_matrix((np.asarray(vals, np.float32) * idf[cols].astype(np.float32), (rows, cols)),
                              shape=(n_items, len(vocab)))
            blocks.append(_l2_rows(T))
    if not blocks:
        return sp.csr_matrix((n_items, 0), dtype=np.float32)
    return _l2_rows(sp.hstack(blocks).tocsr())


def _metadata_knn(F: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Top-k cosine neighbours per row of F (rows L2-normalised), diagonal excluded; CSR float32."""
    n = F.shape[0]
    has = np.diff(F.indptr) > 0
    rows, cols, vals = [], [], []
    Ft = F.T.tocsc()
    for s in range(0, n, _BLOCK_ROWS):
        e = min(n, s + _BLOCK_ROWS)
        if not has[s:e].any():
            continue
        S = np.asarray((F[s:e] @ Ft).todense(), dtype=np.float32)
        S[np.arange(e - s), np.arange(s, e)] = -np.inf
        S[S <= 0] = -np.inf
        idx, v = top_k(S, k)
        ok = idx >= 0
        rows.append(np.repeat(np.arange(s, e), ok.sum(axis=1)))
        cols.append(idx[ok])
        vals.append(v[ok])
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    return sp.csr_matrix((np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, n))


class SimilarItemsModel(Recommender):
    """Hybrid item-to-item model. ``similarity``: CSR float32 (n_items, n_items), row i = the blended
    neighbours of i (module docstring); ``behaviour`` / ``metadata``: its two parts (CSR)."""

    name = "similar_items"

    def __init__(self, n_items, popularity, behaviour, metadata, has_metadata):
        super().__init__(n_items, popularity)
        self.behaviour, self.metadata = behaviour, metadata
        self.trained = (self.popularity > 0) | has_metadata
        a = 0.5 * self.popularity / (self.popularity + COLD_INTERACTIONS)
        self.similarity = _prune_rows((sp.diags(a) @ behaviour + sp.diags(1.0 - a) @ metadata).tocsr()
                                      .astype(np.float32), 200)

    @classmethod
    def fit(cls, interactions: Interactions, features: sp.csr_matrix | None = None,
            popularity_discount_factor: float = 0.0, max_neighbors: int = 200) -> "SimilarItemsModel":
        """Train on ``interactions`` and optional ``features`` (:func:`item_features`, n_items rows).

        Raises ValueError for popularity_discount_factor outside [0, 1] or features of the wrong height.
        Sets ``repeat_rate`` from ``interactions``. Deterministic.
        """
        sims = SimsModel.fit(interactions, popularity_discount_factor, min_cointeraction_count=1,
                             max_neighbors=max_neighbors)
        S = sims.similarity.tocsr()
        row_max = np.zeros(S.shape[0], np.float32)
        nz = np.diff(S.indptr) > 0
        if S.nnz:
            row_max[nz] = np.maximum.reduceat(S.data, S.indptr[:-1][nz])
        inv = np.divide(1.0, row_max, out=np.zeros_like(row_max), where=row_max > 0)
        behaviour = (sp.diags(inv) @ S).tocsr()
        n = interactions.n_items
        if features is None or features.shape[1] == 0:
            features = sp.csr_matrix((n, 0), dtype=np.float32)
        if features.shape[0] != n:
            raise ValueError(f"features must have one row per item ({n}); got {features.shape[0]}")
        meta = _metadata_knn(features, max_neighbors) if features.shape[1] else sp.csr_matrix((n, n), dtype=np.float32)
        model = cls(n, sims.popularity, behaviour, meta, np.diff(features.indptr) > 0)
        model.repeat_rate = sims.repeat_rate
        return model

    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """float64[n, n_items]: weighted sum of the blended neighbour rows of the history items."""
        return np.asarray((sp.csr_matrix(histories, dtype=np.float32) @ self.similarity).toarray(), np.float64)

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k blended neighbours of ``item``, padded with popular items; ``item`` itself never returned.

        Returns ``(items int32[k'], similarity float64[k'])`` (fill-ins carry 0.0). An index outside the
        model (unknown item) gets the popular items. A cold query item is answered from its metadata.
        """
        return neighbours_or_popular(self.similarity, self.popularity, self.trained, item, k)
