"""Most-popular model: ``aws-popularity-count``, the cold-start fallback and the metrics baseline.

Rule (spec 70-engine-notes §1.3): items ranked by the number of **distinct
users** who interacted with them; the same list for everyone. Scores are the
item's share of those counts (softmax of log count), so they sum to 1.
The model is not repeat-aware (``repeat_rate`` None): Popularity-Count gives
"the same list for everyone", so a user's history does not change it (the
holdout metrics still drop history items, engine/metrics.py).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .interactions import Interactions

__all__ = ["PopularityModel", "unique_user_counts"]


def unique_user_counts(interactions: Interactions) -> np.ndarray:
    """float64[n_items]: number of distinct users per item."""
    x = interactions.to_csr(binary=True)
    return np.asarray(x.sum(axis=0)).ravel().astype(np.float64)


class PopularityModel(Recommender):
    """Popularity-Count. ``affinity = log(unique users)`` regardless of history."""

    name = "popularity"

    def __init__(self, popularity: np.ndarray):
        super().__init__(len(popularity), popularity)

    @classmethod
    def fit(cls, interactions: Interactions) -> "PopularityModel":
        """Count distinct users per item; O(n) time."""
        return cls(unique_user_counts(interactions))

    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """float64[n, n_items]: the popularity logits repeated for every row."""
        return np.broadcast_to(self.popularity_logits(), (histories.shape[0], self.n_items)).copy()
