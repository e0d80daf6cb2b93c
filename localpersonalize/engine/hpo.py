"""Hyperparameter optimisation (``performHPO`` with ``solutionConfig.hpoConfig``), spec 30 §6.6.

A seeded random search over the declared ranges: trial 0 is the solution's own hyperparameters, the
others draw every ranged parameter independently — integers uniformly in [minValue, maxValue],
continuous values uniformly (log-uniformly when 0 < minValue and maxValue / minValue ≥ 100),
categoricals uniformly from ``values``. ``maxNumberOfTrainingJobs`` trials in all, at most
``maxParallelTrainingJobs`` at a time (threads; numpy releases the GIL). Each trial trains the recipe
on the training users of a Personalize holdout (:func:`~.metrics.split_holdout` of the data given,
i.e. the caller passes only the data the final metrics do not test on) and is scored on its test
users; the objective is ``normalized_discounted_cumulative_gain_at_10``, maximised (the service does not
let users configure ``hpoObjective``, botocore HPOConfig doc; a known metric name there is honoured).
Ties keep the earlier trial. Deterministic for the same data, ranges and seed.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from .interactions import Interactions
from .metrics import METRIC_KEYS, evaluate_model, split_holdout

__all__ = ["DEFAULT_OBJECTIVE", "sample_trials", "random_search", "range_name"]

DEFAULT_OBJECTIVE = "normalized_discounted_cumulative_gain_at_10"


def range_name(name: str) -> str:
    """A range's hyperparameter name without the describe-output prefix (``training.bptt`` → ``bptt``,
    spec 30 §6.1 note)."""
    return name.rsplit(".", 1)[-1]


def _fmt(v) -> str:
    if isinstance(v, float):
        return repr(round(v, 6))
    return str(v)


def sample_trials(base: dict, ranges: dict, n: int, seed: int = 0) -> list[dict]:
    """``n`` hyperparameter dicts (string values): ``base`` first, then random draws over ``ranges``
    (the botocore ``HyperParameterRanges`` shape: integer / continuous / categorical range lists)."""
    rng = np.random.default_rng(seed)
    trials = [dict(base)]
    for _ in range(max(0, n - 1)):
        hp = dict(base)
        for r in ranges.get("integerHyperParameterRanges") or []:
            hp[range_name(r["name"])] = str(int(rng.integers(int(r["minValue"]), int(r["maxValue"]) + 1)))
        for r in ranges.get("continuousHyperParameterRanges") or []:
            lo, hi = float(r["minValue"]), float(r["maxValue"])
            if lo > 0 and hi / lo >= 100:
                v = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            else:
                v = float(rng.uniform(lo, hi))
            hp[range_name(r["name"])] = _fmt(v)
        for r in ranges.get("categoricalHyperParameterRanges") or []:
            values = list(r.get("values") or [])
            if values:
                hp[range_name(r["name"])] = str(values[int(rng.integers(len(values)))])
        trials.append(hp)
    return trials


def random_search(fit: Callable[[Interactions, dict], object], interactions: Interactions, base: dict,
                  ranges: dict, max_jobs: int, max_parallel: int = 1, seed: int = 0,
                  objective: str | None = None) -> tuple[dict, list[tuple[dict, float]]]:
    """Run the search; ``fit(train_interactions, hyperparameters)`` trains one model.

    Returns ``(best hyperparameters, [(hyperparameters, objective value), ...] per trial)``.
    Raises ValueError when no holdout can be built (no user with ≥ 2 events).
    """
    metric = objective if objective in METRIC_KEYS else DEFAULT_OBJECTIVE
    split = split_holdout(interactions, seed)
    n_cat = len(np.unique(interactions.item_idx))
    trials = sample_trials(base, ranges, max(1, int(max_jobs)), seed)

    def run(hp):
        return float(evaluate_model(fit(split.train, hp), split, n_cat)[metric])

    with ThreadPoolExecutor(max_workers=max(1, min(int(max_parallel), len(trials)))) as pool:
        values = list(pool.map(run, trials))
    best = int(np.argmax(values))  # first maximum: ties keep the earlier trial
    return trials[best], list(zip(trials, values))
