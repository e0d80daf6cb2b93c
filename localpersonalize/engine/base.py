"""Shared scoring interface of every item recommender in the engine.

A model is trained once (see the ``train`` registry in ``engine/__init__.py``)
and then answers for any user given that user's **history** (fold-in): the
caller passes the user's item indices (training history plus newer real-time
events), so new users and PutEvents are served without retraining.

Scores (spec 70-engine-notes §1.1, "How recommendation scoring works")
---------------------------------------------------------------------
A score is the probability that an item is the user's **next** interaction;
scores over the whole catalogue sum to 1 (≤ 1 when some group is empty). With
``a`` the model's affinity and ``T = self.temperature``:

* **Plain softmax** (``repeat_rate is None``, e.g. Popularity-Count):
  ``score_i = exp(a_i / T) / Σ_j exp(a_j / T)`` over the trained items.
* **Repeat-aware** (``repeat_rate = r``, set by every learned model's ``fit``
  from its training data, see :func:`measure_repeat_rate`): the user's history
  items H (the *seen* group) share total mass ``r`` and all other trained items
  (the *unseen* group) share ``1 - r``; within a group the mass is divided by
  the same softmax, ``score_i = m_g · exp(a_i/T) / Σ_{j∈g} exp(a_j/T)``.
  Why: Personalize's User-Personalization models are sequence models trained
  on next-interaction prediction, so they learn from the data whether users
  come back to items (click streams) or never do (MovieLens ratings: r = 0).
  Neighbourhood/factor models such as EASE and iALS score the history's own
  items highest and cannot learn that; the split restores it. If one group has
  no trained item (empty history, or every item seen) the other gets mass 1.
  A group with mass 0 (r = 0: the seen items) scores 0 and its items are
  ranked **after** every other eligible item, by their within-group softmax,
  so they appear only when nothing else is left.

``T`` is 1.0 unless calibrated: the user-personalization recipes fit it at
training time by maximum likelihood of held-out next items (see
``engine/calibration.py``), so the top score of a confident model is visibly
above ``1 / n_items``. Rankings are computed in log space (no underflow):
changing ``T`` never changes the order within a group.

Items absent from the training data (never interacted with) get logit
``-inf``, i.e. score 0, and are never recommended (the Personalized-Ranking
rule "an item not present in the latest training gets score 0", spec 70
§1.4). An empty history is served from the popularity ranking with scores =
share of unique users (cold start, spec 70 §7.3).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["Recommender", "top_k", "softmax", "histories_to_csr", "recency_weights",
           "measure_repeat_rate", "group_log_scores", "group_masses"]

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
    row) are padded with index -1 and value NaN. Wide rows (``m ≥``
    :data:`_THRESHOLD_MIN_COLS`, ``k`` small against ``m``) go through
    :func:`_top_k_threshold` (two passes over the block instead of an
    ``argpartition``; among items tied at the k-th place it keeps the lowest
    indices); the rest, and any row it cannot settle, use ``np.argpartition``
    (which keeps some of the tied items: which ones depends only on the row).
    A row's answer never depends on the other rows of the block.
    """
    scores = np.atleast_2d(scores)
    n, m = scores.shape
    k = int(max(0, min(k, m)))
    if k == 0 or n == 0:
        return np.zeros((n, 0), np.int32), np.zeros((n, 0), np.float64)
    if m >= _THRESHOLD_MIN_COLS and m // _THRESHOLD_CHUNK >= 2 * k:
        return _top_k_threshold(scores, k)
    return _top_k_partition(scores, k)


#: :func:`top_k` uses the chunk-maximum threshold for rows at least this wide...
_THRESHOLD_MIN_COLS = 2048
#: ...cut into chunks of this many columns; a row with more candidates than this goes to argpartition.
_THRESHOLD_CHUNK = 64
_THRESHOLD_MAX_CANDIDATES = 4096


def _top_k_partition(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_k` by ``np.argpartition`` (``0 < k <= m``)."""
    n, m = scores.shape
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


def _top_k_threshold(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_k` without a partition of the block: the row is cut into chunks of
    :data:`_THRESHOLD_CHUNK` columns; the k-th largest chunk maximum ``t`` is at most the row's k-th
    largest score (k distinct chunks hold a score ≥ t), so the top k are among the columns ≥ t of the
    chunks whose maximum is ≥ t — one max pass over the block, then a look at those few chunks and a
    stable sort of each row's candidates (a small padded matrix) by ``(-score, column)``. Rows whose
    ``t`` is not finite (fewer than k finite scores), that yield fewer than k candidates (NaN) or more
    than :data:`_THRESHOLD_MAX_CANDIDATES` fall back to :func:`_top_k_partition`."""
    n, m = scores.shape
    w = _THRESHOLD_CHUNK
    cmax = np.maximum.reduceat(scores, np.arange(0, m, w), axis=1)
    c = cmax.shape[1]
    t = np.partition(cmax, c - k, axis=1)[:, c - k]
    settled = np.isfinite(t)
    r_chunk, c_chunk = np.nonzero(cmax >= np.where(settled, t, np.inf)[:, None])
    whole = m // w
    full = c_chunk < whole                                  # whole chunks: windows of the flat block
    r_full, c_full = r_chunk[full], c_chunk[full]
    flat = np.ascontiguousarray(scores).reshape(-1)
    hit_r, hit_j = np.nonzero(sliding_window_view(flat, w)[r_full * m + c_full * w] >= t[r_full][:, None])
    rows, cols = r_full[hit_r], c_full[hit_r] * w + hit_j
    if whole * w < m:                                       # the short last chunk of the chosen rows
        r_last = r_chunk[~full]
        hit_r, hit_j = np.nonzero(scores[r_last, whole * w:] >= t[r_last][:, None])
        rows, cols = np.r_[rows, r_last[hit_r]], np.r_[cols, whole * w + hit_j]
    counts = np.bincount(rows, minlength=n)
    settled &= (counts >= k) & (counts <= _THRESHOLD_MAX_CANDIDATES)
    keep = settled[rows]
    rows, cols = rows[keep], cols[keep]
    grouped = np.argsort(rows, kind="stable")               # by row, columns ascending within a row
    rows, cols = rows[grouped], cols[grouped]
    counts = np.where(settled, counts, 0)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pos = np.arange(len(rows)) - starts[rows]
    width = max(k, int(counts.max()) if n else k)
    cand = np.full((n, width), -np.inf)                     # each row's candidates, padded with -inf
    cand[rows, pos] = scores[rows, cols]
    at = np.zeros((n, width), np.int64)
    at[rows, pos] = cols
    order = np.argsort(-cand, axis=1, kind="stable")[:, :k]  # stable: ties keep the lower column
    idx = np.take_along_axis(at, order, axis=1).astype(np.int32)
    out = np.take_along_axis(cand, order, axis=1)
    if not settled.all():
        rest = np.flatnonzero(~settled)
        idx[rest], out[rest] = _top_k_partition(scores[rest], k)
    return idx, out


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
    if half_life and half_life > 0:                         # recency_weights of every history at once
        age = np.repeat(np.cumsum(lens), lens) - 1 - np.arange(len(cols))
        w = (0.5 ** (age.astype(np.float64) / half_life)).astype(np.float32)
    else:
        w = np.ones(len(cols), np.float32)
    key = rows * n_items + cols
    order = np.lexsort((w, key))
    last = np.r_[key[order][1:] != key[order][:-1], True]
    sel = order[last]
    return sp.csr_matrix((w[sel], (rows[sel], cols[sel])), shape=(n, n_items), dtype=np.float32)


def measure_repeat_rate(interactions) -> float:
    """Share of repeat interactions in ``interactions`` (an :class:`Interactions`), in [0, 1].

    Definition: over every user's time-ordered events after their first, the
    fraction whose item that user had already interacted with. Counting needs
    no sort: each (user, item) pair contributes ``count - 1`` repeats, so
    ``r = (n_events - n_distinct_pairs) / (n_events - n_active_users)``.
    Returns 0.0 when no user has two events. MovieLens ratings give 0.0.
    """
    n = len(interactions)
    if n == 0:
        return 0.0
    key = np.sort(interactions.user_idx.astype(np.int64) * interactions.n_items + interactions.item_idx)
    pairs = 1 + int(np.count_nonzero(np.diff(key)))        # a sort, not np.unique (numpy 2's hash path is ~10x slower)
    users = int(np.count_nonzero(np.bincount(interactions.user_idx, minlength=interactions.n_users)))
    return float((n - pairs) / (n - users)) if n > users else 0.0


def _masked_logsumexp(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise log Σ exp(x) over ``mask`` → float64[n, 1]; ``-inf`` where nothing finite is selected."""
    return _logsumexp_rows(np.where(mask, x, -np.inf))


def _logsumexp_rows(y: np.ndarray) -> np.ndarray:
    """Row-wise log Σ exp(y) of float64[n, m] (``-inf`` entries left out) → float64[n, 1], ``-inf`` for a
    row with no finite entry."""
    mx = y.max(axis=1, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    e = y - mx
    np.exp(e, out=e)
    with np.errstate(divide="ignore"):
        return np.log(e.sum(axis=1, keepdims=True)) + mx


def _sparse_logsumexp_rows(x: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Row-wise log Σ exp of the stored values ``x`` float64[nnz] of a CSR layout (``indptr`` int[n + 1])
    → float64[n, 1]; ``-inf`` for a row with no finite value. Summed in stored order."""
    n = len(indptr) - 1
    out = np.full((n, 1), -np.inf)
    lens = np.diff(indptr)
    full = np.flatnonzero(lens > 0)
    if not len(full):
        return out
    starts = indptr[:-1][full]
    mx = np.maximum.reduceat(x, starts)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    e = np.exp(x - np.repeat(mx, lens[full]))
    with np.errstate(divide="ignore"):
        out[full, 0] = np.log(np.add.reduceat(e, starts)) + mx
    return out


def group_masses(has_s: np.ndarray, has_u: np.ndarray, repeat_rate: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Masses ``(m_s, m_u)`` float64 (shape of ``has_s``) of the seen and unseen groups (module docstring):
    ``repeat_rate`` and its complement when both groups have a trained item (``has_s``, ``has_u`` bool), 1 for
    the only non-empty group, 0 for an empty one; None = one group (everything unseen)."""
    r = 0.0 if repeat_rate is None else repeat_rate
    m_s = np.where(has_s, np.where(has_u, r, 1.0), 0.0)
    m_u = np.where(has_u, 1.0 - m_s, 0.0)
    return m_s, m_u


def group_log_scores(logits: np.ndarray, seen: np.ndarray, repeat_rate: float | None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Log-scores of the repeat-aware rule (module docstring) for a block of users.

    Parameters
    ----------
    logits : float64[n, m]
        ``affinity / T``; ``-inf`` = untrained item (never eligible).
    seen : bool[n, m]
        True where the item is in the user's history.
    repeat_rate : float in [0, 1] or None
        Total mass of the seen group; None = one group (plain softmax).

    Returns
    -------
    log_p : float64[n, m]
        ``log score`` (``-inf`` for score 0); ``exp(log_p)`` sums to ≤ 1 per row.
    tail : float64[n, m]
        Within-group log-softmax of the items whose group has mass 0 (they rank
        after every item with ``log_p > -inf``); ``-inf`` elsewhere.
    """
    if repeat_rate is None:
        seen = np.zeros(logits.shape, bool)
    lse_s = _masked_logsumexp(logits, seen)
    lse_u = _masked_logsumexp(logits, ~seen)
    m_s, m_u = group_masses(np.isfinite(lse_s), np.isfinite(lse_u), repeat_rate)
    finite = np.isfinite(logits)
    with np.errstate(invalid="ignore"):
        within = np.where(finite, logits - np.where(seen, lse_s, lse_u), -np.inf)
    with np.errstate(divide="ignore"):
        log_m = np.log(np.where(seen, m_s, m_u))
    log_p = log_m + within
    tail = np.where(np.isneginf(log_m), within, -np.inf)
    return log_p, tail


def _rank(log_p: np.ndarray, tail: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of :func:`group_log_scores` output: items by ``log_p``, then zero-mass items by ``tail``.

    Returns ``(idx int32[n, k'], scores float64[n, k'])`` like :func:`top_k`
    (scores = ``exp(log_p)``, 0.0 for tail items, NaN / -1 padding).
    """
    idx, vals = top_k(log_p, k)
    vals = np.exp(vals)
    if np.isfinite(tail).any():
        t_idx, _ = top_k(tail, k)
        idx = np.concatenate([idx, t_idx], axis=1)
        vals = np.concatenate([vals, np.where(t_idx >= 0, 0.0, np.nan)], axis=1)
        order = np.argsort(idx < 0, axis=1, kind="stable")[:, :idx.shape[1] // 2]
        idx = np.take_along_axis(idx, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
    return idx, vals


def _seen_mask(histories: sp.csr_matrix) -> np.ndarray:
    """bool[n, n_items]: the stored entries of each history row (explicit zeros count as seen)."""
    seen = np.zeros(histories.shape, bool)
    seen[np.repeat(np.arange(histories.shape[0]), np.diff(histories.indptr)), histories.indices] = True
    return seen


class Recommender:
    """Base class: subclasses implement :meth:`affinity_many`; this class does scoring.

    Attributes
    ----------
    n_items : int
        Catalogue size; item indices are ``0..n_items-1``.
    popularity : float64[n_items]
        Number of distinct training users per item (the Popularity-Count rule).
    temperature : float
        Softmax temperature T (> 0); logits are ``affinity / T``. 1.0 unless
        calibrated at training time (``engine/calibration.py``).
    repeat_rate : float in [0, 1] or None
        Share of the probability mass given to the user's history items (the
        repeat-aware rule of the module docstring); set by ``fit`` of the
        learned models from :func:`measure_repeat_rate` of their training
        data. None = plain catalogue softmax (Popularity-Count: the same list
        for everyone).
    """

    temperature: float = 1.0
    repeat_rate: float | None = None
    #: Half-life (in events) of the recency weighting applied to a fold-in
    #: history; None = all events weigh 1. See :func:`recency_weights`.
    history_half_life: float | None = None

    def __init__(self, n_items: int, popularity: np.ndarray):
        self.n_items = int(n_items)
        self.popularity = np.asarray(popularity, dtype=np.float64)
        self.trained = self.popularity > 0

    def learn_repeat_rate(self, interactions) -> "Recommender":
        """Set :attr:`repeat_rate` = :func:`measure_repeat_rate` of the training ``interactions``; returns self.

        Called by ``fit`` of every learned model (EASE, iALS, SIMS), so a model
        trained on data without re-interactions never re-recommends history.
        """
        self.repeat_rate = measure_repeat_rate(interactions)
        return self

    # ------------------------------------------------------------ to override
    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """Affinity float64[n, n_items] of each history row (CSR float32 (n, n_items), values = weights):
        a new array, which the caller may modify in place."""
        raise NotImplementedError

    # --------------------------------------------------------------- logits
    def popularity_logits(self) -> np.ndarray:
        """float64[n_items] = log(unique users); softmax of it = each item's share of users."""
        with np.errstate(divide="ignore"):
            return np.log(self.popularity)

    def logits_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """Logits float64[n, n_items]: affinity / T, untrained items -inf, empty rows = popularity."""
        histories = sp.csr_matrix(histories, dtype=np.float32)
        empty = np.diff(histories.indptr) == 0
        if not empty.any():                                 # the usual block: scaled in place, no copy
            a = self.affinity_many(histories)
            np.divide(a, self.temperature, out=a)
            a[:, ~self.trained] = -np.inf
            return a
        out = np.empty((histories.shape[0], self.n_items), dtype=np.float64)
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

    def log_scores_many(self, histories: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """``(log_p, tail)`` float64[n, n_items] of each history row: the repeat-aware rule
        (:func:`group_log_scores`), the seen group being each row's stored entries, computed as
        :meth:`_group_rule` does (the same numbers as :meth:`rank_log_scores`)."""
        y, tail = self._group_rule(histories)
        if isinstance(tail, np.ndarray):
            return y, tail
        t_rows, t_cols, t_vals = tail
        dense = np.full(y.shape, -np.inf)
        dense[t_rows, t_cols] = t_vals
        return y, dense

    def _group_rule(self, histories: sp.csr_matrix):
        """The repeat-aware rule (module docstring) in as few passes over the dense block as it allows:
        ``(log_p float64[n, n_items], tail)``, ``tail`` either the sparse zero-mass entries ``(rows,
        cols, values)`` or a dense float64[n, n_items] (:func:`group_log_scores`, when the unseen group
        has mass 0: repeat rate 1).

        How: the history (seen) group is sparse, so its logits are taken out of the dense block and
        normalised on their own (:func:`_sparse_logsumexp_rows`); the block then holds the unseen group
        only and needs one log-sum-exp pass and two in-place adds; a seen group of mass 0 (repeat rate
        0) is the sparse tail. The unseen items' numbers are :func:`group_log_scores`' to the bit; the
        seen group's differ by the order of its sum.
        """
        h = sp.csr_matrix(histories, dtype=np.float32)
        n = h.shape[0]
        y = self.logits_many(h)
        rows = np.repeat(np.arange(n), np.diff(h.indptr))
        cols = h.indices.astype(np.int64)
        if self.repeat_rate is None or not len(cols):
            lse = _logsumexp_rows(y)                        # one group (or no history): plain softmax
            y -= np.where(np.isfinite(lse), lse, 0.0)
            return y, (rows[:0], cols[:0], np.empty(0))
        ys = y[rows, cols]
        y[rows, cols] = -np.inf
        lse_u = _logsumexp_rows(y)
        lse_s = _sparse_logsumexp_rows(ys, h.indptr)
        has_u = np.isfinite(lse_u)
        m_s, m_u = group_masses(np.isfinite(lse_s), has_u, self.repeat_rate)
        if (has_u & (m_u == 0)).any():                      # the unseen group is a (dense) tail
            y[rows, cols] = ys
            return group_log_scores(y, _seen_mask(h), self.repeat_rate)
        y -= np.where(has_u, lse_u, 0.0)                    # within-group log-softmax of the unseen items
        with np.errstate(divide="ignore"):
            y += np.log(m_u)
            log_m_s = np.log(m_s)[rows, 0]
        with np.errstate(invalid="ignore"):
            within = np.where(np.isfinite(ys), ys - lse_s[rows, 0], -np.inf)
        y[rows, cols] = log_m_s + within
        tail = np.isneginf(log_m_s) & np.isfinite(within)
        return y, (rows[tail], cols[tail], within[tail])

    def rank_log_scores(self, histories: sp.csr_matrix, k: int, allowed: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-``k`` of the repeat-aware rule for a block of users: :func:`_rank` of
        :meth:`log_scores_many` with the items outside ``allowed`` removed (they still count in the
        normalisation), plus the log-scores themselves, without a dense tail block.

        ``histories`` CSR (n, n_items) (:meth:`histories_csr`); ``allowed`` bool[n or 1, n_items] or None
        (all). Returns ``(idx int32[n, k'], scores float64[n, k'], log_p float64[n, n_items])``: ``idx`` /
        ``scores`` as :func:`_rank` (items by log-score, then the zero-mass group's items by their
        within-group softmax with score 0.0, padding -1 / NaN); ``log_p`` :meth:`log_scores_many`'s with
        non-allowed items at ``-inf`` (the caller reads the scores of other allowed items from it).
        """
        y, tail = self._group_rule(histories)
        if isinstance(tail, np.ndarray):
            if allowed is not None:
                np.copyto(y, -np.inf, where=~allowed)
                np.copyto(tail, -np.inf, where=~allowed)
            idx, vals = _rank(y, tail, k)
            return idx, vals, y
        t_rows, t_cols, t_vals = tail
        if allowed is not None:
            np.copyto(y, -np.inf, where=~allowed)
            ok = allowed[np.minimum(t_rows, allowed.shape[0] - 1), t_cols]
            t_rows, t_cols, t_vals = t_rows[ok], t_cols[ok], t_vals[ok]
        idx, vals = top_k(y, k)
        vals = np.exp(vals)
        if len(t_rows):                                     # zero-mass seen items after the others
            order = np.lexsort((t_cols, -t_vals, t_rows))
            t_rows, t_cols = t_rows[order], t_cols[order]
            starts = np.searchsorted(t_rows, np.arange(y.shape[0]))
            slot = np.count_nonzero(idx >= 0, axis=1)[t_rows] + np.arange(len(t_rows)) - starts[t_rows]
            fit = slot < idx.shape[1]
            idx[t_rows[fit], slot[fit]] = t_cols[fit]
            vals[t_rows[fit], slot[fit]] = 0.0
        return idx, vals, y

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
            score normalisation (scores are over the whole catalogue), they
            are only removed from the ranking.

        Returns
        -------
        items int32[k'], scores float64[k'] with ``k' <= k`` (fewer when not
        enough trained items), descending by score; ``scores`` are the
        catalogue probabilities of the module docstring. Under repeat rate 0
        the history items come last with score 0.0. Ranking uses log-scores,
        so an item whose probability underflows to 0.0 still ranks by its
        logit (before the zero-mass group); untrained items never appear.
        """
        log_p, tail = self.log_scores_many(self._row(history))
        if exclude is not None and len(exclude):
            ex = np.asarray(exclude, dtype=np.int64)
            log_p[0, ex] = tail[0, ex] = -np.inf
        idx, vals = _rank(log_p, tail, k)
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
        NaN where a row has fewer eligible items; row r equals
        ``recommend(history_r, k, exclude=history_r if exclude_seen else None)``.
        Computed in row blocks of about 4M score cells to bound memory.
        """
        histories = sp.csr_matrix(histories, dtype=np.float32)
        n = histories.shape[0]
        k_eff = min(k, self.n_items)
        items = np.full((n, k_eff), -1, np.int32)
        scores = np.full((n, k_eff), np.nan)
        step = max(1, _BLOCK_CELLS // max(1, self.n_items))
        for s in range(0, n, step):
            h = histories[s:s + step]
            if exclude_seen:
                items[s:s + step], scores[s:s + step] = self._rank_unseen(h, k_eff)
                continue
            log_p, tail = self.log_scores_many(h)
            items[s:s + step], scores[s:s + step] = _rank(log_p, tail, k_eff)
        return items, scores

    def _rank_unseen(self, h: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_rank` of :meth:`log_scores_many` with each row's history items removed, computed for the
        unseen group only: the seen group's normaliser never matters once its items are excluded (only
        whether it has a trained item, which sets the masses), so one log-sum-exp pass over the block
        replaces the two groups' passes and the tail. Same numbers, operation for operation, as the full
        rule (module docstring); ``h`` CSR float32 (n, n_items)."""
        y = self.logits_many(h)
        rows = np.repeat(np.arange(h.shape[0]), np.diff(h.indptr))
        has_s = np.zeros((h.shape[0], 1), bool)
        if self.repeat_rate is None:                        # one group: the history items count in the sum
            lse_u = _logsumexp_rows(y)
        else:
            has_s[rows[np.isfinite(y[rows, h.indices])], 0] = True
        y[rows, h.indices] = -np.inf
        if self.repeat_rate is not None:
            lse_u = _logsumexp_rows(y)
        has_u = np.isfinite(lse_u)
        _, m_u = group_masses(has_s, has_u, self.repeat_rate)
        y -= np.where(has_u, lse_u, 0.0)                    # within-group log-softmax
        with np.errstate(divide="ignore"):
            log_m = np.log(m_u)
        zero = np.isneginf(log_m)[:, 0]                     # mass 0: ranked by the within-group softmax, score 0
        y[~zero] += log_m[~zero]
        idx, vals = top_k(y, k)
        vals = np.exp(vals)
        vals[zero] = np.where(idx[zero] >= 0, 0.0, np.nan)
        return idx, vals

    def score(self, history, items) -> np.ndarray:
        """GetPersonalizedRanking scores: the catalogue scores renormalised over the given items.

        ``items`` int[m] (may repeat). Returns float64[m]: ``p_i / Σ_{j∈items} p_j``
        over the distinct items, ``p`` the scores :meth:`recommend` would give
        ("identical to GetRecommendations, except that it only considers the
        input items", spec 70 §1.4), so they sum to 1 over the distinct trained
        items and rank them as :meth:`recommend` does. Items never seen in
        training score 0. Under repeat rate 0 history items score 0 unless the
        list holds nothing else; then they share the mass by their
        within-group softmax (the limit r → 0). Empty history → shares of
        popularity among ``items``.
        """
        items = np.asarray(items, dtype=np.int64)
        log_p, tail = self.log_scores_many(self._row(history))
        uniq, inv = np.unique(items, return_inverse=True)
        x = log_p[0, uniq]
        if not np.isfinite(x).any():
            x = tail[0, uniq]
        return softmax(x)[inv]

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Items most related to ``item``: by default the fold-in of a one-item history.

        Returns ``(items int32[k'], scores float64[k'])`` excluding ``item`` itself.
        """
        return self.recommend(np.array([item], np.int32), k, exclude=np.array([item]))
