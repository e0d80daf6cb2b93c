"""Trending-Now (``aws-trending-now``, VOD ``aws-vod-trending-now``): items whose interactions grow fastest.

Rule (guide L7028-L7036, spec 20 §D.2, spec 70 §1.3): with ``W`` = ``trend_discovery_frequency``
(30 minutes, 1 hour, 2 hours, 3 hours or 1 day) and ``now`` = the newest interaction timestamp,
count each item's events in the last window ``(now − W, now]`` (``c_t``) and in the one before
``(now − 2W, now − W]`` (``c_{t−1}``); the growth is ``c_t − c_{t−1}``. Items with growth > 0 are
trending, ranked by growth, then by ``c_t``, then by unique-user popularity, then by index. If no item
had interactions in the last two windows the answer is the popular items ("only popular items are
recommended"); after the trending items the list continues with the popular ones, so a request for
more items than are trending is always filled. The same list for everyone (no user history, no
scores: the recipe returns none).

The ranking is encoded as affinity ``= n_items − rank`` (temperature 1) so the shared
:class:`~.base.Recommender` scoring and top-k code serve it unchanged. Trending-Now considers new items
without a new solution version: serve from :meth:`TrendingModel.refreshed` on the current data every
``W`` (the runtime's choice of cadence).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .interactions import Interactions
from .popularity import unique_user_counts

__all__ = ["TrendingModel", "TREND_WINDOWS", "trend_window_seconds", "window_counts", "trend_prediction_accuracy"]

#: trend_discovery_frequency value → window length in seconds (guide L7064-L7072; "2 hours" is the default).
TREND_WINDOWS = {"30 minutes": 1800, "1 hour": 3600, "2 hours": 7200, "3 hours": 10800, "1 day": 86400}


def trend_window_seconds(value: str | None) -> int:
    """Seconds of a ``trend_discovery_frequency`` value (case-insensitive); None → 2 hours.

    Raises ValueError naming the allowed values for anything else.
    """
    if value is None or str(value).strip() == "":
        return TREND_WINDOWS["2 hours"]
    key = " ".join(str(value).strip().lower().split())
    if key not in TREND_WINDOWS:
        raise ValueError(f"trend_discovery_frequency must be one of {', '.join(TREND_WINDOWS)}; got {value!r}")
    return TREND_WINDOWS[key]


def window_counts(interactions: Interactions, window: int, now: int) -> tuple[np.ndarray, np.ndarray]:
    """(c_t, c_{t−1}) float64[n_items]: events per item in ``(now − W, now]`` and ``(now − 2W, now − W]``."""
    t = interactions.timestamp
    last = (t > now - window) & (t <= now)
    prev = (t > now - 2 * window) & (t <= now - window)
    n = interactions.n_items
    return (np.bincount(interactions.item_idx[last], minlength=n).astype(np.float64),
            np.bincount(interactions.item_idx[prev], minlength=n).astype(np.float64))


class TrendingModel(Recommender):
    """Trending-Now ranking. Attributes: ``window`` (seconds), ``now`` (epoch seconds, newest event),
    ``growth`` float64[n_items] (``c_t − c_{t−1}``), ``recent`` float64[n_items] (``c_t``),
    ``trending`` bool (False = fell back to popularity)."""

    name = "trending"

    def __init__(self, popularity, window, now, growth, recent):
        super().__init__(len(popularity), popularity)
        self.window, self.now = int(window), int(now)
        self.growth, self.recent = growth, recent
        self.trending = bool((growth > 0).any())
        tier = np.where(growth > 0, 1.0, 0.0)
        order = np.lexsort((np.arange(self.n_items), -popularity, -recent, -growth, -tier))
        rank = np.empty(self.n_items, np.float64)
        rank[order] = np.arange(self.n_items)
        self._affinity = np.where(self.trained, self.n_items - rank, -np.inf)

    @classmethod
    def fit(cls, interactions: Interactions, window_seconds: int = 7200, now: int | None = None) -> "TrendingModel":
        """Count windows ending at ``now`` (default: the newest timestamp). O(n); deterministic."""
        if now is None:
            now = int(interactions.timestamp.max()) if len(interactions) else 0
        c_t, c_prev = window_counts(interactions, window_seconds, now)
        return cls(unique_user_counts(interactions), window_seconds, now, c_t - c_prev, c_t)

    def refreshed(self, interactions: Interactions) -> "TrendingModel":
        """The same recipe re-evaluated on newer data (new items included, no retraining)."""
        return TrendingModel.fit(interactions, self.window)

    def popularity_logits(self) -> np.ndarray:
        """Everyone (empty history included) gets the trending list."""
        return self._affinity.copy()

    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """float64[n, n_items]: the trending affinity repeated for every row."""
        return np.broadcast_to(self._affinity, (histories.shape[0], self.n_items)).copy()


def trend_prediction_accuracy(model: TrendingModel, test: Interactions, k: int = 25) -> float:
    """Trending-Now's offline metric (guide L12068-L12074): the popularity growth of the recommended
    items ÷ the total growth of the top-``k`` growing items, growth measured in ``test``'s last window
    against the window before (the windows of ``model.window`` ending at ``test``'s newest event).
    Only positive growth counts. 0.0 when nothing grew.
    """
    if len(test) == 0:
        return 0.0
    c_t, c_prev = window_counts(test, model.window, int(test.timestamp.max()))
    growth = np.clip(c_t - c_prev, 0, None)
    ideal = np.sort(growth)[::-1][:k].sum()
    if ideal <= 0:
        return 0.0
    recs, _ = model.recommend(np.empty(0, np.int32), k)
    recs = recs[recs < len(growth)]
    return float(growth[recs].sum() / ideal)

