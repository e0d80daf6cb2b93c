"""Training glue between the control layer and the engine: take a snapshot of a dataset group's
interactions, check the minimum-data rules, train the recipe's model and compute its offline metrics.

The engine knows nothing of IDs or ARNs; this module hands it integer arrays and keeps the mapping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import engine
from ..engine import metrics as engine_metrics
from ..engine.interactions import Interactions, from_arrays
from .lifecycle import FailedWork

#: Seed of every training run: results are deterministic for the same data (issue 5, "Training rules").
SEED = 0


@dataclass
class TrainedModel:
    """A trained model and what was known when it was trained.

    ``model`` answers with item indices into the dataset group's item index; ``n_items`` is the
    catalogue size the model was trained on (later items are unknown to it); ``metrics`` are the
    offline metrics (spec 30 §8); ``training_seconds`` is the wall time of training and evaluation;
    ``interactions`` is the training snapshot, from which recipes that do not react in real time serve
    (see :func:`user_history_at_training`).
    """

    recipe_name: str
    model: object
    n_items: int
    metrics: dict
    training_seconds: float
    interactions: Interactions | None = None


def snapshot(group_data, event_type: str | None = None, event_value_threshold: float | None = None) -> Interactions:
    """The dataset group's interactions as engine input, after the solution's event filters.

    Raises:
        FailedWork: when the dataset group has no interactions dataset or no interactions.
    """
    arrays = group_data.interactions_arrays(event_type, event_value_threshold)
    if arrays is None:
        raise FailedWork("The dataset group has no Interactions dataset; import interactions before training.")
    user_idx, item_idx, timestamp = arrays
    return from_arrays(user_idx, item_idx, timestamp, n_users=len(group_data.users), n_items=len(group_data.items))


def train(recipe, group_data, event_type: str | None, solution_config: dict | None) -> TrainedModel:
    """Train ``recipe`` (a :class:`~.recipes.Recipe`) on the dataset group's current data.

    Raises:
        FailedWork: the minimum-data rule (≥1000 interactions, ≥25 users with ≥2 each; guide
            "Data requirements") or a recipe without an engine yet.
    """
    config = solution_config or {}
    threshold = config.get("eventValueThreshold")
    data = snapshot(group_data, event_type, float(threshold) if threshold else None)
    reason = engine.check_minimum_data(data)
    if reason:
        raise FailedWork(reason)
    params = dict(recipe.default_hyperparameters)
    params.update(config.get("algorithmHyperParameters") or {})
    started = time.perf_counter()
    try:
        model = engine.train(recipe.name, data, params, seed=SEED)
        found = engine_metrics.evaluate(lambda d: engine.train(recipe.name, d, params, seed=SEED), data, seed=SEED)
    except NotImplementedError as exc:
        raise FailedWork(f"localpersonalize cannot train {recipe.name} yet: {exc}") from None
    return TrainedModel(recipe.name, model, data.n_items, found, time.perf_counter() - started, data)


def user_history(group_data, user_id: str | None, n_items: int, event_types: tuple[str, ...] | None = None
                 ) -> np.ndarray:
    """Item indices (int32) of ``user_id``'s interactions, oldest first, known to a model of ``n_items``
    items: the training history plus every event streamed since (real-time personalization).
    ``event_types`` keeps only those event types (case-insensitive)."""
    items = group_data.user_items(user_id, event_types)
    return items[items < n_items]


def user_history_at_training(trained: TrainedModel, group_data, user_id: str | None) -> np.ndarray:
    """Item indices (int32) of ``user_id``'s interactions as they were when ``trained`` was trained, oldest
    first: what a recipe that does not react to new events (``Recipe.realtime`` false, spec 20 §B.1)
    serves from until its next training. Empty for a user unknown at training time."""
    snap = trained.interactions
    code = group_data.users.code(user_id, add=False) if user_id is not None else -1
    if snap is None or not 0 <= code < snap.n_users:
        return np.empty(0, np.int32)
    return snap.history(code).astype(np.int32, copy=False)
