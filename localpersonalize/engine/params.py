"""Reading the solution's string-valued hyperparameters, and the featurization filters they drive.

Hyperparameter values travel as strings (spec 20 §D). The control layer validates names and ranges
against the recipe catalogue at CreateSolution (control/recipes.py ``HyperParameter.check``); the
engine re-parses defensively with :func:`hp_int` / :func:`hp_float` / :func:`hp_bool`, raising
ValueError with the offending name for a malformed value.

Featurization (guide L6626-L6629, L7366-L7374): the ``*_percentile`` parameters drop users whose
history length, or items whose interaction count, lies outside the given percentiles of the training
data — "short histories mostly reflect popularity, very long ones tend to be bots" (spec 20 §D.1).
"""
from __future__ import annotations

import numpy as np

from .interactions import Interactions

__all__ = ["hp_int", "hp_float", "hp_bool", "percentile_filter"]


def _raw(hp: dict, key: str):
    v = hp.get(key)
    return None if v is None or str(v).strip() == "" else str(v).strip()


def hp_int(hp: dict, key: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
    """``int(hp[key])`` (a float string such as "64.0" is accepted), ``default`` when absent.

    Raises ValueError naming ``key`` when the value is not a number or outside [lo, hi].
    """
    v = _raw(hp, key)
    if v is None:
        return default
    try:
        out = int(float(v))
    except ValueError:
        raise ValueError(f"hyperparameter {key} must be an integer; got {v!r}") from None
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        raise ValueError(f"hyperparameter {key} must be in [{lo}, {hi}]; got {out}")
    return out


def hp_float(hp: dict, key: str, default: float, lo: float | None = None, hi: float | None = None) -> float:
    """``float(hp[key])``, ``default`` when absent. Raises ValueError as :func:`hp_int`."""
    v = _raw(hp, key)
    if v is None:
        return default
    try:
        out = float(v)
    except ValueError:
        raise ValueError(f"hyperparameter {key} must be a number; got {v!r}") from None
    if not np.isfinite(out) or (lo is not None and out < lo) or (hi is not None and out > hi):
        raise ValueError(f"hyperparameter {key} must be in [{lo}, {hi}]; got {out}")
    return out


def hp_bool(hp: dict, key: str, default: bool) -> bool:
    """``true``/``false`` (any case; the guide prints both ``True`` and ``true``), ``default`` when absent."""
    v = _raw(hp, key)
    if v is None:
        return default
    return v.lower() in ("true", "1", "yes")


def _keep_between(counts: np.ndarray, lo_q: float, hi_q: float) -> np.ndarray:
    """bool[n]: counts > 0 within the [lo_q, hi_q] percentiles of the positive counts (inclusive)."""
    pos = counts[counts > 0]
    if len(pos) == 0:
        return counts > 0
    lo, hi = np.quantile(pos, [lo_q, hi_q], method="lower" if lo_q == 0 else "linear")
    if hi_q >= 1.0:
        hi = pos.max()
    return (counts > 0) & (counts >= lo) & (counts <= hi)


def percentile_filter(interactions: Interactions, hp: dict) -> Interactions:
    """Training events after the featurization percentile filters in ``hp``.

    ``min/max_user_history_length_percentile`` keep users whose event count is within those
    percentiles of the users' counts; ``min/max_item_interaction_count_percentile`` (SIMS) keep items
    whose event count is within those percentiles of the items' counts. Absent parameters filter
    nothing (0.0 / 1.0). Never filters away everything: if a filter would drop every event the input
    is returned unchanged. Index spaces are unchanged.
    """
    keep = np.ones(len(interactions), bool)
    lo_u = hp_float(hp, "min_user_history_length_percentile", 0.0, 0.0, 1.0)
    hi_u = hp_float(hp, "max_user_history_length_percentile", 1.0, 0.0, 1.0)
    if lo_u > 0.0 or hi_u < 1.0:
        counts = np.bincount(interactions.user_idx, minlength=interactions.n_users)
        keep &= _keep_between(counts, lo_u, hi_u)[interactions.user_idx]
    lo_i = hp_float(hp, "min_item_interaction_count_percentile", 0.0, 0.0, 1.0)
    hi_i = hp_float(hp, "max_item_interaction_count_percentile", 1.0, 0.0, 1.0)
    if lo_i > 0.0 or hi_i < 1.0:
        counts = np.bincount(interactions.item_idx, minlength=interactions.n_items)
        keep &= _keep_between(counts, lo_i, hi_i)[interactions.item_idx]
    if keep.all() or not keep.any():
        return interactions
    return interactions.subset(keep)
