"""Next-Best-Action (``aws-next-best-action``): per-action propensity within the action optimization period.

Documented behaviour (guide L7390-L7420, L7503; spec 20 §D.5; spec 70 §1.6): for each user, the
actions they are most likely to take within ``action_optimization_period`` days (default 14, 7-28),
with a propensity score in [0, 1], sorted by descending score; equal scores rank the higher action
VALUE first; expired actions are never returned and an action the user took is held back for its
REPEAT_FREQUENCY days. Until the latest training had ≥ 50 ``TAKEN`` and ≥ 50 ``NOT_TAKEN``/``VIEWED``
action interactions, all within 6 weeks of the newest action interaction, actions are recommended
without personalization and with score 0.0.

Model (spec 70 §0: "a calibrated GLM is the honest minimum"): one logistic regression over
(user, action) pairs, fitted by Newton's method (IRLS) with an L2 penalty of 1, on the features

    1, logit(base take rate of the action), log1p(times the user took it),
    log1p(times the user saw/declined it), log1p(actions the user took in all),
    cosine(user's item-interaction profile, item profile of the action's takers)

(the last one personalises by what users who took the action also did with items). Label: the user
took the action within the period. Training uses time as the supervisor: features from events before
``now − period``, labels from ``(now − period, now]`` (``now`` = newest event); the population is every
user with an action interaction (at most 3000, seeded sample). At serving time the features use all
events up to now, so the score is the probability of taking the action in the next period.

Offline metrics (spec 30 §8.3-§8.4, guide L12042-L12096), on 10 % of the population held out (seeded):
each test user is recommended their top action (features before the cut-off); ``precision`` = per
action, correct / times recommended, averaged over recommended actions; ``recall`` = per action,
correct / test users who took it, averaged over taken actions; ``area_under_the_curve`` = ROC AUC of
the scores over all test (user, action) pairs; ``coverage`` = distinct actions in the test users' top 5
÷ actions. Without personalization (the data gate) every score is 0.0 and the AUC is 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .interactions import Interactions

__all__ = ["ActionData", "NextBestActionModel", "NBA_METRIC_KEYS", "MIN_TAKEN", "MIN_NOT_TAKEN",
           "GATE_WINDOW_SECONDS"]

NBA_METRIC_KEYS = ("coverage", "precision", "recall", "area_under_the_curve")
MIN_TAKEN = 50
MIN_NOT_TAKEN = 50
#: "all within 6 weeks of the newest action-interaction timestamp" (guide L7396-L7403).
GATE_WINDOW_SECONDS = 42 * 86400
DAY = 86400
_MAX_POPULATION = 3000


@dataclass(frozen=True)
class ActionData:
    """Actions and action interactions as integer arrays.

    ``user_idx`` int32[n], ``action_idx`` int32[n], ``timestamp`` int64[n] (epoch seconds) and
    ``taken`` bool[n] (EVENT_TYPE ``TAKEN``; ``NOT_TAKEN``/``VIEWED`` are False) per action interaction;
    ``n_actions``; per action: ``value`` float64 (VALUE, NaN = none), ``expiration`` float64
    (EXPIRATION_TIMESTAMP epoch seconds, NaN = never), ``repeat_days`` float64 (REPEAT_FREQUENCY, NaN
    = none).
    """

    user_idx: np.ndarray
    action_idx: np.ndarray
    timestamp: np.ndarray
    taken: np.ndarray
    n_actions: int
    value: np.ndarray
    expiration: np.ndarray
    repeat_days: np.ndarray


def available_actions(actions: ActionData, now: float, last_taken: np.ndarray | None = None) -> np.ndarray:
    """bool[n_actions]: the actions that may be recommended at ``now`` (epoch seconds): not expired
    (EXPIRATION_TIMESTAMP ≤ now), and not inside their REPEAT_FREQUENCY window (days) since
    ``last_taken`` (float64[n_actions] epoch seconds of the user's latest TAKEN, NaN = never; None = no
    window) (guide L7390-L7420)."""
    ok = ~(actions.expiration <= now)
    if last_taken is not None:
        ok &= ~(np.asarray(last_taken, np.float64) + np.nan_to_num(actions.repeat_days, nan=-1.0) * DAY > now)
    return ok


def _logit(p):
    return np.log(p) - np.log1p(-p)


class NextBestActionModel:
    """Trained Next-Best-Action model (see module docstring).

    Attributes: ``personalized`` (the data gate passed), ``weights`` float64[6] (logistic coefficients),
    ``now`` (newest event, epoch seconds), ``period`` (seconds), ``actions`` (:class:`ActionData`),
    ``n_items``; fit-time statistics used to build serving features: ``base_logit`` float64[n_actions],
    ``centroids`` CSR (n_actions, n_items) L2-normalised item profiles of each action's takers.
    """

    name = "next_best_action"

    def __init__(self, actions: ActionData, n_items: int, period_days: int, now: int, personalized: bool):
        self.actions, self.n_items = actions, int(n_items)
        self.period = int(period_days) * DAY
        self.now, self.personalized = int(now), bool(personalized)
        self.weights = np.zeros(6)
        self.base_logit = np.zeros(actions.n_actions)
        self.centroids = sp.csr_matrix((actions.n_actions, n_items), dtype=np.float64)

    # ------------------------------------------------------------------ training
    @classmethod
    def fit(cls, items: Interactions, actions: ActionData, period_days: int = 14, seed: int = 0,
            exclude_users: np.ndarray | None = None) -> "NextBestActionModel":
        """Train. ``items``: item interactions (same user index space as ``actions``);
        ``exclude_users``: users left out of training (the metrics' test users). Deterministic.
        Raises ValueError when period_days is outside [7, 28] (guide L7503)."""
        if not 7 <= int(period_days) <= 28:
            raise ValueError(f"action_optimization_period must be in [7, 28]; got {period_days}")
        now = int(max(actions.timestamp.max(initial=0), items.timestamp.max(initial=0)))
        recent = actions.timestamp >= now - GATE_WINDOW_SECONDS
        gate = (int((actions.taken & recent).sum()) >= MIN_TAKEN
                and int((~actions.taken & recent).sum()) >= MIN_NOT_TAKEN)
        model = cls(actions, items.n_items, period_days, now, gate)
        model._set_statistics(items, actions, now)
        if not gate:
            return model
        cut = now - model.period
        pop = np.unique(actions.user_idx)
        if exclude_users is not None:
            pop = np.setdiff1d(pop, exclude_users)
        rng = np.random.default_rng(seed)
        if len(pop) > _MAX_POPULATION:
            pop = np.sort(rng.choice(pop, _MAX_POPULATION, replace=False))
        before = cls(actions, items.n_items, period_days, cut, gate)
        before._set_statistics(items, actions, cut)
        F = before._features(pop, items, actions, cut)                     # (|pop|, A, 6)
        y = _took_after(actions, pop, cut, now)                               # (|pop|, A)
        model.weights = _irls(F.reshape(-1, F.shape[-1]), y.ravel().astype(np.float64))
        return model

    def _set_statistics(self, items: Interactions, actions: ActionData, until: int) -> None:
        """Base take rates and takers' item profiles from events at or before ``until``."""
        sel = actions.taken & (actions.timestamp <= until)
        took = sp.csr_matrix((np.ones(int(sel.sum())), (actions.action_idx[sel], actions.user_idx[sel])),
                             shape=(actions.n_actions, max(items.n_users, int(actions.user_idx.max(initial=-1)) + 1)))
        took.data[:] = 1.0
        took.sum_duplicates()
        took.data[:] = 1.0
        n_pop = max(1, len(np.unique(actions.user_idx[actions.timestamp <= until])))
        rate = (np.asarray(took.sum(axis=1)).ravel() + 1.0) / (n_pop + 2.0)
        self.base_logit = _logit(np.clip(rate, 1e-6, 1 - 1e-6))
        prof = _profiles(items, until, took.shape[1])
        C = took @ prof
        norms = np.sqrt(np.asarray(C.multiply(C).sum(axis=1)).ravel())
        self.centroids = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ C

    def _features(self, users: np.ndarray, items: Interactions, actions: ActionData, until: int) -> np.ndarray:
        """float64[len(users), n_actions, 6] features of each (user, action) from events ≤ ``until``."""
        n_u, A = len(users), self.actions.n_actions
        pos = np.full(max(items.n_users, int(actions.user_idx.max(initial=-1)) + 1, int(users.max(initial=-1)) + 1), -1)
        pos[users] = np.arange(n_u)
        sel = (actions.timestamp <= until) & (pos[actions.user_idx] >= 0)
        r, a, tk = pos[actions.user_idx[sel]], actions.action_idx[sel], actions.taken[sel]
        took = np.zeros((n_u, A))
        np.add.at(took, (r[tk], a[tk]), 1.0)
        seen = np.zeros((n_u, A))
        np.add.at(seen, (r[~tk], a[~tk]), 1.0)
        prof = _profiles(items, until, len(pos))[users]
        cos = np.asarray((prof @ self.centroids.T).todense())
        F = np.empty((n_u, A, 6))
        F[..., 0] = 1.0
        F[..., 1] = self.base_logit[None, :]
        F[..., 2] = np.log1p(took)
        F[..., 3] = np.log1p(seen)
        F[..., 4] = np.log1p(took.sum(axis=1))[:, None]
        F[..., 5] = cos
        return F

    # ------------------------------------------------------------------- serving
    def scores_for(self, item_history, action_events=None) -> np.ndarray:
        """Propensity float64[n_actions] of one user from their item history (int item indices) and
        action events ``(action_idx int[m], taken bool[m])`` (training snapshot plus streamed events);
        all 0.0 when the model is not personalized."""
        A = self.actions.n_actions
        if not self.personalized:
            return np.zeros(A)
        item_history = np.asarray(item_history, np.int64)
        item_history = item_history[(item_history >= 0) & (item_history < self.n_items)]
        a_idx, taken = (np.empty(0, np.int64), np.empty(0, bool)) if action_events is None else action_events
        a_idx, taken = np.asarray(a_idx, np.int64), np.asarray(taken, bool)
        took = np.bincount(a_idx[taken], minlength=A)[:A].astype(np.float64)
        seen = np.bincount(a_idx[~taken], minlength=A)[:A].astype(np.float64)
        prof = np.zeros(self.n_items)
        prof[np.unique(item_history)] = 1.0
        nrm = np.linalg.norm(prof)
        cos = (self.centroids @ (prof / nrm)) if nrm > 0 else np.zeros(A)
        F = np.stack([np.ones(A), self.base_logit, np.log1p(took), np.log1p(seen),
                      np.full(A, np.log1p(took.sum())), np.asarray(cos).ravel()], axis=1)
        return 1.0 / (1.0 + np.exp(-(F @ self.weights)))

    def recommend_actions(self, item_history, action_events=None, k: int = 5, now: float | None = None,
                          last_taken: np.ndarray | None = None, allowed: np.ndarray | None = None,
                          current: ActionData | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` actions for one user: ``(actions int32[k'], scores float64[k'])``.

        Order: descending score, then descending VALUE (no value ranks last), then action index.
        Never returns an action expired at ``now`` (epoch seconds; default the training ``now``), one
        whose REPEAT_FREQUENCY window since ``last_taken`` (float64[n_actions] epoch seconds of the
        user's latest TAKEN, NaN = never) still runs, or one with ``allowed`` False (bool[n_actions],
        e.g. a filter). VALUE, EXPIRATION_TIMESTAMP and REPEAT_FREQUENCY are ``current``'s (the Actions
        dataset now; its first ``n_actions`` entries are this model's actions) or, by default, those
        of training. Scores are 0.0 without personalization (data gate).
        """
        now = self.now if now is None else float(now)
        s = self.scores_for(item_history, action_events)
        acts, n = (self.actions if current is None else current), len(s)
        ok = available_actions(acts, now, last_taken)[:n]
        if allowed is not None:
            ok &= np.asarray(allowed, bool)[:n]
        val = np.nan_to_num(acts.value[:n], nan=-np.inf)
        order = np.lexsort((np.arange(len(s)), -val, -s))
        order = order[ok[order]][:k]
        return order.astype(np.int32), s[order]

    # ------------------------------------------------------------------- metrics
    @classmethod
    def train_and_evaluate(cls, items: Interactions, actions: ActionData, period_days: int = 14,
                           seed: int = 0) -> tuple["NextBestActionModel", dict]:
        """The model trained on everything and its metrics (module docstring) on a seeded 10 % holdout."""
        model = cls.fit(items, actions, period_days, seed)
        out = {key: 0.0 for key in NBA_METRIC_KEYS}
        pop = np.unique(actions.user_idx)
        if not len(pop) or actions.n_actions == 0:
            return model, out
        rng = np.random.default_rng(seed)
        test = np.sort(rng.choice(pop, max(1, int(round(0.1 * len(pop)))), replace=False))
        probe = cls.fit(items, actions, period_days, seed, exclude_users=test)
        cut = probe.now - probe.period
        before = cls(actions, items.n_items, period_days, cut, probe.personalized)
        before._set_statistics(items, actions, cut)
        F = before._features(test, items, actions, cut)
        S = 1.0 / (1.0 + np.exp(-(F @ probe.weights))) if probe.personalized else np.zeros(F.shape[:2])
        y = _took_after(actions, test, cut, probe.now)
        val = np.nan_to_num(actions.value, nan=-np.inf)
        order = np.lexsort((np.broadcast_to(np.arange(S.shape[1]), S.shape), np.broadcast_to(-val, S.shape), -S),
                           axis=1)
        top1 = order[:, 0]
        correct = y[np.arange(len(test)), top1]
        rec_n = np.bincount(top1, minlength=actions.n_actions)
        cor_n = np.bincount(top1, weights=correct, minlength=actions.n_actions)
        took_n = y.sum(axis=0)
        cor_by_action = np.zeros(actions.n_actions)
        np.add.at(cor_by_action, top1, correct)
        if (rec_n > 0).any():
            out["precision"] = float(np.mean(cor_n[rec_n > 0] / rec_n[rec_n > 0]))
        if (took_n > 0).any():
            out["recall"] = float(np.mean(cor_by_action[took_n > 0] / took_n[took_n > 0]))
        out["area_under_the_curve"] = _auc(S.ravel(), y.ravel())
        out["coverage"] = float(len(np.unique(order[:, :5])) / actions.n_actions)
        return model, out


def _profiles(items: Interactions, until: int, n_users: int) -> sp.csr_matrix:
    """Binary user × item matrix (n_users rows) of item events at or before ``until``, rows L2-normalised."""
    sel = items.timestamp <= until
    X = sp.csr_matrix((np.ones(int(sel.sum())), (items.user_idx[sel], items.item_idx[sel])),
                      shape=(n_users, items.n_items))
    X.sum_duplicates()
    X.data[:] = 1.0
    norms = np.sqrt(np.asarray(X.sum(axis=1)).ravel())
    return (sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ X).tocsr()


def _took_after(actions: ActionData, users: np.ndarray, start: int, end: int) -> np.ndarray:
    """bool[len(users), n_actions]: the user took the action in ``(start, end]``."""
    pos = np.full(max(int(actions.user_idx.max(initial=-1)), int(users.max(initial=-1))) + 1, -1)
    pos[users] = np.arange(len(users))
    sel = actions.taken & (actions.timestamp > start) & (actions.timestamp <= end) & (pos[actions.user_idx] >= 0)
    y = np.zeros((len(users), actions.n_actions), bool)
    y[pos[actions.user_idx[sel]], actions.action_idx[sel]] = True
    return y


def _irls(F: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 25) -> np.ndarray:
    """Logistic regression weights float64[d] by Newton's method with an L2 penalty (intercept included)."""
    w = np.zeros(F.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(F @ w)))
        g = F.T @ (p - y) + l2 * w
        H = (F * (p * (1 - p))[:, None]).T @ F + l2 * np.eye(F.shape[1])
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC by the rank-sum statistic (ties get average ranks); 0.5 when one class is absent."""
    pos, n = int(labels.sum()), len(labels)
    if pos == 0 or pos == n:
        return 0.5
    order = np.argsort(scores, kind="stable")
    s = scores[order]
    ranks = np.empty(n)
    uniq, start, counts = np.unique(s, return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels.astype(bool)].sum() - pos * (pos + 1) / 2.0) / (pos * (n - pos)))
