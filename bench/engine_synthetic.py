"""Seeded synthetic implicit-feedback data for the engine benchmarks (run by hand, not a test).

``synthetic(n_users, n_items, n_interactions, seed)`` → :class:`~localpersonalize.engine.Interactions`
with a planted structure a recommender can learn: items belong to ``n_topics`` topics with Zipf(0.8)
popularity inside each topic; every user likes 3 topics (weights 0.6 / 0.25 / 0.15) and draws a
lognormal number of events (mean ``n_interactions / n_users``); an event picks a topic by the user's
weights, then an item of that topic by popularity. Timestamps increase per user (one event a minute).
Memory is O(n_interactions); 10M events over 100k items and 500k users take ~10 s.
"""
from __future__ import annotations

import numpy as np

from localpersonalize.engine import Interactions


def synthetic(n_users: int, n_items: int, n_interactions: int, seed: int = 0, n_topics: int = 32) -> Interactions:
    rng = np.random.default_rng(seed)
    lens = rng.lognormal(0.0, 0.8, n_users)
    lens = np.maximum(2, np.round(lens / lens.sum() * n_interactions)).astype(np.int64)
    n = int(lens.sum())
    users = np.repeat(np.arange(n_users, dtype=np.int32), lens)
    topic_of_item = rng.permutation(np.arange(n_items) % n_topics)
    members = [np.flatnonzero(topic_of_item == t) for t in range(n_topics)]
    sizes = np.array([len(m) for m in members])
    likes = np.argsort(rng.random((n_users, n_topics)), axis=1)[:, :3]
    pick = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    topic = likes[users, pick]
    # Zipf(0.8) rank inside the topic by inverse-CDF sampling of a truncated power law
    u = rng.random(n)
    size = sizes[topic].astype(np.float64)
    s = 0.8
    rank = np.floor((u * ((size + 1) ** (1 - s) - 1) + 1) ** (1 / (1 - s))).astype(np.int64) - 1
    rank = np.clip(rank, 0, sizes[topic] - 1)
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    flat = np.concatenate(members)
    items = flat[offsets[topic] + rank].astype(np.int32)
    start = np.repeat(np.cumsum(lens) - lens, lens)
    ts = 1_600_000_000 + (np.arange(n) - start) * 60
    return Interactions(users, items, ts.astype(np.int64), n_users, n_items)
