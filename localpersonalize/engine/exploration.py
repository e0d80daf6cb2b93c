"""Item exploration (spec 20 §B.2, spec 70 §1.1; guide L6064-L6090, L6634-L6637, L4702-L4706): pure numpy.

User-Personalization, the domain use cases Top picks for you / Recommended for you and Next-Best-Action
mix new, little-interacted items into a user's list. The guide gives the knobs, the AWS cheat sheet the
mechanism ("new items receive a bonus to their score which is inversely proportional to the number of
interactions/impressions the item has"); the exact bandit is not public. What this module does:

* **Pool** (:func:`exploration_pool`): eligible items whose **age** is at most
  ``explorationItemAgeCutOff`` days. Age is counted back from the newest interaction of the whole
  dataset; an item's birth is its CREATION_TIMESTAMP, else its first interaction, else (no data at all)
  the newest interaction, so it counts as new (spec 10 rule 9). Items the model has never seen (added
  after training) can enter a list only this way.
* **Bonus** (:func:`exploration_bonus`): ``1 / (1 + interactions + impressions)`` per item, so an item
  shown often without being chosen is explored less (impressions never train the model, L4704).
* **Slots** (:func:`exploration_slots`): ``round(explorationWeight × numResults)`` of the list's places
  (0 = no exploration, 1 = every place), never more than the pool outside the relevance head.
* **Draw** (:func:`draw`): the slot items are drawn from the pool without replacement with probability
  proportional to the bonus (successive sampling), from a seeded generator: the same seed, data
  and request give the same list.
* **Blend** (:func:`blend`): the relevance ranking keeps its first ``k − slots`` places; the explored
  items fill the last places, ordered by their own score then draw order, so the list stays sorted by
  score (an explored item is outside the relevance head, so its score is at most the head's last one).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["DAY", "ExplorationConfig", "item_age_days", "exploration_bonus", "exploration_pool",
           "exploration_slots", "draw", "blend", "request_seed"]

DAY = 86400.0
#: Defaults of ``itemExplorationConfig`` (guide L6634-L6637; spec 20 §B.2).
DEFAULT_WEIGHT, DEFAULT_AGE_CUT_OFF_DAYS = 0.3, 30.0


@dataclass(frozen=True)
class ExplorationConfig:
    """``explorationWeight`` in [0, 1] and ``explorationItemAgeCutOff`` in days (≥ 1)."""

    weight: float = DEFAULT_WEIGHT
    age_cut_off_days: float = DEFAULT_AGE_CUT_OFF_DAYS

    @classmethod
    def from_api(cls, config: dict | None) -> "ExplorationConfig":
        """From an ``itemExplorationConfig`` string map (missing keys take the defaults). The values were
        checked when the campaign/recommender/job was created; unparsable ones fall back to the defaults."""
        config = config or {}

        def num(key, default):
            try:
                return float(config.get(key, default))
            except (TypeError, ValueError):
                return default

        return cls(min(1.0, max(0.0, num("explorationWeight", DEFAULT_WEIGHT))),
                   max(1.0, num("explorationItemAgeCutOff", DEFAULT_AGE_CUT_OFF_DAYS)))


def item_age_days(created: np.ndarray | None, first_seen: np.ndarray, newest: float) -> np.ndarray:
    """float64[n] item ages in days at ``newest`` (epoch seconds of the newest interaction).

    ``created``: float64[n] CREATION_TIMESTAMP epoch seconds (NaN = none) or None; ``first_seen``:
    float64[n] first interaction epoch seconds (NaN = never). Birth = created, else first seen, else
    ``newest`` (age 0). Negative ages (created after the newest event) count as 0.
    """
    birth = np.asarray(first_seen, np.float64).copy()
    if created is not None:
        c = np.asarray(created, np.float64)
        birth = np.where(np.isnan(c), birth, c)
    birth = np.where(np.isnan(birth), newest, birth)
    return np.maximum(0.0, (float(newest) - birth) / DAY)


def exploration_bonus(interactions: np.ndarray, impressions: np.ndarray) -> np.ndarray:
    """float64[n] ``1 / (1 + interactions + impressions)`` (counts per item, any numeric dtype)."""
    return 1.0 / (1.0 + np.asarray(interactions, np.float64) + np.asarray(impressions, np.float64))


def exploration_pool(age_days: np.ndarray, cut_off_days: float, allowed: np.ndarray) -> np.ndarray:
    """bool[n]: items ``allowed`` (bool[n]) whose age is within ``cut_off_days``."""
    return np.asarray(allowed, bool) & (np.asarray(age_days) <= float(cut_off_days))


def exploration_slots(weight: float, k: int) -> int:
    """Places of a ``k``-item list given to exploration: ``round(weight × k)`` (half up)."""
    return int(np.floor(float(weight) * int(k) + 0.5))


def request_seed(seed: int, *keys: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and the request's keys (e.g. the user ID): the same request on the
    same data draws the same items; different users explore different items."""
    return np.random.default_rng([int(seed)] + [zlib.crc32(str(k).encode()) for k in keys])


def draw(candidates: np.ndarray, bonus: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` of ``candidates`` (int item indices) without replacement, each draw with probability ∝ its
    ``bonus`` (float64 indexed by item) among those not drawn yet; returned in draw order.

    Successive sampling by inverse CDF (a cumulative sum, then binary searches; a repeat is drawn
    again), O(len(candidates)) once; when ``n`` is over a quarter of the candidates, Gumbel-top-k
    (argsort of ``log bonus + Gumbel noise``) instead, which has the same distribution.
    """
    candidates = np.asarray(candidates, np.int64)
    n = min(int(n), len(candidates))
    if n <= 0:
        return np.empty(0, np.int64)
    weights = np.asarray(bonus, np.float64)[candidates]
    if 4 * n > len(candidates):
        keys = np.log(weights) + rng.gumbel(size=len(candidates))
        return candidates[np.argsort(-keys, kind="stable")[:n]]
    cum = np.cumsum(weights)
    picked: list = []
    seen: set = set()
    while len(picked) < n:
        for j in np.searchsorted(cum, rng.random(2 * n) * cum[-1], side="right").tolist():
            j = min(j, len(cum) - 1)
            if j not in seen:
                seen.add(j)
                picked.append(j)
                if len(picked) == n:
                    break
    return candidates[np.asarray(picked, np.int64)]


def blend(codes: np.ndarray, scores: np.ndarray, k: int, pool: np.ndarray, bonus: np.ndarray, weight: float,
          rng: np.random.Generator, item_scores=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``k``-item list from the relevance ranking and exploration (module docstring).

    ``codes`` int[m] / ``scores`` float64[m]: the relevance ranking (best first, m ≤ k); ``pool``
    bool[n]: the exploration pool; ``bonus`` float64[n]; ``item_scores``: callable int[j] → float64[j]
    giving the explored items' own scores (default 0.0). Returns ``(codes int64[k'], scores
    float64[k'], explored bool[k'])``.
    """
    codes, scores = np.asarray(codes, np.int64), np.asarray(scores, np.float64)
    n_slots = exploration_slots(weight, k)
    if n_slots == 0 or not pool.any():
        return codes[:k], scores[:k], np.zeros(min(k, len(codes)), bool)
    head = max(0, k - n_slots)
    pool = pool.copy()
    pool[codes[:head]] = False
    picked = draw(np.flatnonzero(pool), bonus, min(n_slots, k - min(head, len(codes))), rng)
    own = np.zeros(len(picked)) if item_scores is None else np.asarray(item_scores(picked), np.float64)
    order = np.lexsort((np.arange(len(picked)), -own))
    picked, own = picked[order], own[order]
    head_codes, head_scores = codes[:head], scores[:head]
    # Relevance items after the head fill what exploration could not.
    rest = k - len(head_codes) - len(picked)
    tail = codes[head:][~np.isin(codes[head:], picked)][:max(0, rest)]
    tail_scores = scores[head:][~np.isin(codes[head:], picked)][:max(0, rest)]
    out_codes = np.concatenate([head_codes, tail, picked])
    out_scores = np.concatenate([head_scores, tail_scores, own])
    explored = np.r_[np.zeros(len(head_codes) + len(tail), bool), np.ones(len(picked), bool)]
    return out_codes, out_scores, explored
