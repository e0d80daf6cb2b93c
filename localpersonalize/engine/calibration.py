"""Temperature calibration: make scores "calibrated probability that this is the user's next item".

Why: Personalize's scores are a *trained* softmax (spec 70-engine-notes §1.1),
so a confident model puts visibly more mass on its top item (the guide's batch
example shows 0.0152 and 0.0069 for the top two items). EASE and iALS
affinities are not trained as logits: on ml-latest-small a user's largest
EASE affinity is ≈ 0.26–0.60 (10th–90th percentile) and their spread is
≈ 0.03, so ``softmax(a)`` at T = 1 over 9.7k items is flat (every score
≈ 1/9724 ≈ 0.0001). Calibrated there, T ≈ 0.05 (EASE) / 0.16 (iALS).

Rule: hold out data the way Personalize's offline metrics do
(:func:`~.metrics.split_holdout` with the training seed: 10 % of users; each
one's oldest 90 % of events is the history, newest 10 % the next items), train
a probe model on the remaining users with the same recipe, and pick

    T* = argmin_T  −mean_e log score_T(item_e | history_e)

with ``score_T`` the serving rule of engine/base.py (repeat-aware groups,
``logits = affinity / T``). Events that score 0 for every T (untrained item,
or an item of a zero-mass group, e.g. a re-interaction when the repeat rate is
0) are left out. The NLL is convex in β = 1/T (a log-sum-exp minus a linear
term): its minimum is the root of the increasing derivative
``NLL'(β) = mean_e (E_β[a | group_e] − a_e)``, found by Newton's method with
``NLL''(β) = mean_e Var_β[a | group_e]``, safeguarded by bisection (in log β)
within [1e-3, 1e3] / σ, σ = standard deviation of the probe's finite
affinities, to a relative step of 1e-7 (typically 5-7 evaluations; each one is
a single exp pass over the held-out users' unseen items, the seen group kept
sparse). The final model (trained on all data) gets T*; T only rescales
logits, so rankings within a group are unchanged.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .base import Recommender, _seen_mask, group_masses
from .interactions import Interactions
from .metrics import HoldoutSplit, split_holdout

__all__ = ["fit_temperature", "train_calibrated", "CALIBRATION_CELLS"]

#: Most (user × item) affinity cells held in memory during the search; larger
#: holdouts use a seeded random subset of their test users.
CALIBRATION_CELLS = 4_000_000


def fit_temperature(model: Recommender, split: HoldoutSplit, seed: int = 0) -> float:
    """Maximum-likelihood temperature T (> 0) of ``model`` on ``split``'s next items.

    ``model`` must have been trained on ``split.train`` only (no leakage);
    its current ``temperature`` is ignored. Uses ``split.history_lists`` (fold-in
    with the model's recency weighting) and ``split.truth_events``. Returns
    1.0 when nothing can be fitted (no scorable truth event or constant
    affinities). Deterministic for a given ``seed`` (only used to subsample
    test users beyond :data:`CALIBRATION_CELLS`).
    """
    users = np.arange(len(split.history_lists))
    cap = max(1, CALIBRATION_CELLS // max(1, model.n_items))
    if len(users) > cap:
        users = np.sort(np.random.default_rng(seed).choice(users, size=cap, replace=False))
    H = model.histories_csr([split.history_lists[u] for u in users])
    a = model.logits_many(H) * model.temperature            # = affinity, untrained -inf
    seen = _seen_mask(H) if model.repeat_rate is not None else np.zeros(a.shape, bool)
    rows = np.concatenate([np.full(len(split.truth_events[u]), r) for r, u in enumerate(users)])
    cols = np.concatenate([split.truth_events[u] for u in users]).astype(np.int64)
    # score_T at the truth cells = m_g · exp(a/T) / Σ_{j∈g} exp(a_j/T) (base.group_log_scores): the masses do
    # not depend on T; events of a zero-mass group or an untrained item score 0 at every T and are left out
    finite = np.isfinite(a)
    m_s, m_u = group_masses((seen & finite).any(axis=1), (~seen & finite).any(axis=1), model.repeat_rate)
    in_s = seen[rows, cols]
    a_t = a[rows, cols]
    ok = (np.where(in_s, m_s[rows], m_u[rows]) > 0) & np.isfinite(a_t)
    rows, in_s, a_t = rows[ok], in_s[ok], a_t[ok]
    sample = a[::max(1, len(a) // 64)]                      # σ only scales the search: ≤ 64 rows give it
    sigma = float(sample[np.isfinite(sample)].std()) if np.isfinite(sample).any() else 0.0
    if len(rows) == 0 or not sigma > 0:
        return 1.0
    # the groups over the trained columns (finite in every row): unseen dense, seen sparse
    trained = finite.any(axis=0)
    if not trained.all():
        a, seen = a[:, trained], seen[:, trained]
    r_s, c_s = np.nonzero(seen)
    groups = ((_Group(a, (r_s, c_s)), ~in_s), (_Group(a[r_s, c_s], row=r_s, n_rows=len(a)), in_s))

    def derivatives(beta: float) -> tuple[float, float]:
        """NLL'(β), NLL''(β) over the kept truth events."""
        mean, var = np.empty(len(rows)), np.empty(len(rows))
        for group, pick in groups:
            if pick.any():
                m, v = group.moments(beta)
                mean[pick], var[pick] = m[rows[pick]], v[rows[pick]]
        return float((mean - a_t).mean()), float(var.mean())

    lo, hi = 1e-3 / sigma, 1e3 / sigma
    beta = 1.0 / sigma
    for _ in range(100):
        g, h = derivatives(beta)
        if g == 0:                                          # the minimum itself
            break
        if g > 0:
            hi = beta
        else:
            lo = beta
        step = beta - g / h if h > 0 else np.nan
        new = step if lo < step < hi else np.sqrt(lo * hi)
        done = abs(new - beta) <= 1e-7 * beta
        beta = new
        if done:
            break
    return float(1.0 / beta)


class _Group:
    """One score group of the held-out rows, for the softmax moments at any β = 1/T: its affinities relative
    to each row's group maximum ``m`` (so ``exp(β·(a − m)) ≤ 1`` never overflows). Dense (the unseen group):
    ``a`` float64 (n, m) less the ``excluded`` cells (row, column index arrays). Sparse (the seen group):
    ``a`` float64[e], the cells of rows ``row`` int[e] out of ``n_rows``."""

    def __init__(self, a: np.ndarray, excluded: tuple | None = None, row: np.ndarray | None = None,
                 n_rows: int = 0):
        self.excluded, self.row, self.n_rows = excluded, row, n_rows
        if row is None:
            self.d = a.copy()
            self.d[excluded] = -np.inf
            self.top = self.d.max(axis=1)
            self.d -= np.where(np.isfinite(self.top), self.top, 0.0)[:, None]
            self.d[excluded] = 0.0                          # finite; its weight is zeroed in moments()
            self.w = np.empty_like(self.d)
        else:
            self.top = np.full(n_rows, -np.inf)
            np.maximum.at(self.top, row, a)
            self.d = a - self.top[row]
        self.d2 = self.d * self.d

    def moments(self, beta: float) -> tuple[np.ndarray, np.ndarray]:
        """Per row: mean and variance of the affinity under the group's softmax at β (NaN for an empty row)."""
        if self.row is None:
            np.multiply(self.d, beta, out=self.w)
            np.exp(self.w, out=self.w)
            self.w[self.excluded] = 0.0
            z = self.w.sum(axis=1)
            s1 = np.einsum("ij,ij->i", self.w, self.d)
            s2 = np.einsum("ij,ij->i", self.w, self.d2)
        else:
            w = np.exp(self.d * beta)
            z = np.bincount(self.row, w, self.n_rows)
            s1 = np.bincount(self.row, w * self.d, self.n_rows)
            s2 = np.bincount(self.row, w * self.d2, self.n_rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            e1 = s1 / z
            return self.top + e1, np.maximum(s2 / z - e1 * e1, 0.0)


def train_calibrated(fit: Callable[[Interactions], Recommender], interactions: Interactions,
                     seed: int = 0) -> Recommender:
    """``fit(interactions)`` with its ``temperature`` set by :func:`fit_temperature`.

    ``fit`` trains one model (recency weighting included) and is called twice:
    on ``interactions`` (the returned model) and on the training users of
    ``split_holdout(interactions, seed)`` (the probe). Falls back to T = 1.0
    when no holdout can be built (no user with ≥ 2 events) or the probe
    cannot be trained (ValueError). Deterministic if ``fit`` is.
    """
    model = fit(interactions)
    try:
        split = split_holdout(interactions, seed)
        probe = fit(split.train)
    except ValueError:
        return model
    model.temperature = fit_temperature(probe, split, seed)
    return model
