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
term), hence unimodal in log β; it is minimised by bounded Brent search on
log β over [1e-3, 1e3] / σ, σ = standard deviation of the probe's finite
affinities. The final model (trained on all data) gets T*; T only rescales
logits, so rankings within a group are unchanged.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from .base import Recommender, _logsumexp_rows, _seen_mask, group_masses
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
    # score_T at the truth cells = m_g · exp(a/T) / Σ_{j∈g} exp(a_j/T) (base.group_log_scores, the same
    # operations): the masses do not depend on T, so each NLL evaluation needs one log-sum-exp per group
    a_s, a_u = np.where(seen, a, -np.inf), np.where(seen, -np.inf, a)
    m_s, m_u = group_masses(np.isfinite(a_s).any(axis=1), np.isfinite(a_u).any(axis=1), model.repeat_rate)
    in_s = seen[rows, cols]
    with np.errstate(divide="ignore"):
        log_m = np.log(np.where(in_s, m_s[rows], m_u[rows]))
    a_t = a[rows, cols]
    ok = np.isfinite(log_m) & np.isfinite(a_t)               # scorable for every T
    rows, in_s, log_m, a_t = rows[ok], in_s[ok], log_m[ok], a_t[ok]
    finite = a[np.isfinite(a)]
    sigma = float(finite.std()) if finite.size else 0.0
    if len(rows) == 0 or not sigma > 0:
        return 1.0

    def nll(log_beta: float) -> float:
        beta = np.exp(log_beta)
        lse = np.empty(len(rows))
        for group, pick in ((a_s, in_s), (a_u, ~in_s)):
            if pick.any():
                lse[pick] = _logsumexp_rows(group * beta)[rows[pick], 0]
        return -float((log_m + a_t * beta - lse).mean())

    lo, hi = np.log(1e-3 / sigma), np.log(1e3 / sigma)
    res = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(-res.x))


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
