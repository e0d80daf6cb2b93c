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
* **Draw** (:func:`draw`, :func:`draw_block`): the slot items are drawn from the pool without
  replacement with probability proportional to the bonus (successive sampling), from a counter-based
  generator keyed by the request (:func:`request_seed`, :func:`uniforms`): the same seed, data and
  request give the same list, whether the request is served alone or in a batch block.
* **Blend** (:func:`blend`, :func:`blend_block`): the relevance ranking keeps its first ``k − slots``
  places; the explored items fill the last places, ordered by their own score then draw order, so the
  list stays sorted by score (an explored item is outside the relevance head, so its score is at most
  the head's last one).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

__all__ = ["DAY", "ExplorationConfig", "DrawTable", "item_age_days", "exploration_bonus", "exploration_pool",
           "exploration_slots", "draw", "draw_block", "draw_allowed", "blend", "blend_block", "request_seed", "uniforms"]

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


def request_seed(seed: int, *keys: str) -> int:
    """The request's 64-bit draw key (an int < 2**64) from ``seed`` and the request's keys (e.g. the recipe
    name and the user ID): BLAKE2b of their text, so it is the same in every process. The same request
    on the same data draws the same items; different users explore different items."""
    text = "\x1f".join([str(int(seed))] + [str(k) for k in keys]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
#: Counter of the first per-item Gumbel uniform (counter ``_GUMBEL_STREAM + item``); the successive
#: sampling's uniforms use counters 0, 1, 2, ...
_GUMBEL_STREAM = 1 << 40


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def uniforms(keys, counters) -> np.ndarray:
    """float64[len(keys), len(counters)] uniforms in the open interval (0, 1): a counter-based generator,
    value ``(keys[r], counters[j])`` is a fixed hash of the pair, so a user's draws do not depend on which
    other users are drawn with them (a batch block and a single request agree)."""
    key = np.asarray(keys, np.uint64).reshape(-1, 1)
    counter = np.asarray(counters, np.uint64).reshape(1, -1)
    bits = _mix(key ^ _mix(counter))
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53


def _gumbel_top(candidates: np.ndarray, weights: np.ndarray, key: int, n: int) -> np.ndarray:
    """``n`` of ``candidates`` by Gumbel-top-k: the largest ``log weight − log(−log u)`` (``u`` the
    per-item uniforms of ``key``), ties by item index; in that order."""
    g = np.log(weights[candidates]) - np.log(-np.log(uniforms([key], candidates + _GUMBEL_STREAM)[0]))
    return candidates[np.lexsort((candidates, -g))[:n]]


def _draws(n: int) -> int:
    """Successive-sampling uniforms tried for ``n`` items before the Gumbel completion takes over."""
    return 4 * n + 16


def _draw_row(weights: np.ndarray, cum: np.ndarray, key: int, exclude: np.ndarray, n: int) -> np.ndarray:
    """:func:`draw_block` of one row (the definition the block computation reproduces)."""
    candidates = np.flatnonzero(weights > 0)
    candidates = candidates[~np.isin(candidates, exclude)]
    n = min(int(n), len(candidates))
    if n <= 0:
        return np.empty(0, np.int64)
    if 4 * n > len(candidates):
        return _gumbel_top(candidates, weights, key, n)
    last = int(np.flatnonzero(weights > 0)[-1])
    hits = np.minimum(np.searchsorted(cum, uniforms([key], np.arange(_draws(n)))[0] * cum[-1], side="right"), last)
    banned = set(np.asarray(exclude).tolist())
    picked: list = []
    for j in hits.tolist():
        if j not in banned:
            banned.add(j)
            picked.append(j)
            if len(picked) == n:
                return np.asarray(picked, np.int64)
    rest = candidates[~np.isin(candidates, picked)]
    return np.r_[np.asarray(picked, np.int64), _gumbel_top(rest, weights, key, n - len(picked))]


@dataclass(frozen=True, eq=False)
class DrawTable:
    """Draw weights prepared once for :func:`draw_block`: ``weights`` float64[r, N] (r = 1: one pool shared
    by every request of a block), their running sums ``cum`` float64[r, N], ``in_pool`` bool[r, N]
    (weight > 0), ``size`` int64[r] items in each pool and ``last`` int64[r] its highest item (0 when
    empty). A table depends only on the pool and the bonus, so a runtime that serves many requests from
    the same pool (same data, same eligible items) builds it once."""

    weights: np.ndarray
    cum: np.ndarray
    in_pool: np.ndarray
    size: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, weights: np.ndarray) -> "DrawTable":
        """From per-item weights float64[N] or [r, N] (0 = not in the pool)."""
        weights = np.atleast_2d(np.asarray(weights, np.float64))
        in_pool = weights > 0
        size = np.count_nonzero(in_pool, axis=1)
        last = np.where(size > 0, weights.shape[1] - 1 - np.argmax(in_pool[:, ::-1], axis=1), 0)
        return cls(weights, np.cumsum(weights, axis=1), in_pool, size, last)

    @classmethod
    def from_pool(cls, pool: np.ndarray, bonus: np.ndarray) -> "DrawTable":
        """The weights of :func:`blend`: ``bonus`` (float64[N]) on the ``pool`` (bool[N] or [r, N]), 0 elsewhere."""
        pool = np.atleast_2d(np.asarray(pool, bool))
        return cls.of(np.where(pool, np.asarray(bonus, np.float64)[None, :], 0.0))


def draw_block(weights, keys, exclude: np.ndarray, want) -> np.ndarray:
    """Draws without replacement for many requests at once, each draw with probability ∝ its weight
    among the items not drawn yet (successive sampling).

    ``weights`` float64[n or 1, N] per item (0 = not in the pool; one row = shared by every request), or
    a :class:`DrawTable` of them; ``keys`` n request keys (:func:`request_seed`); ``exclude`` int[n, h]
    items never drawn (-1 padding); ``want`` int[n] items per request. Returns int64[n, max(want)] in
    draw order, -1 padded (fewer items when the pool minus ``exclude`` is smaller).

    Row r: the candidates are the pool minus ``exclude``; ``m`` of them, ``w = min(want, m)``. When
    ``4w > m``, Gumbel-top-w over the candidates. Otherwise inverse CDF on the weights' cumulative sum
    with the row's uniforms ``0 .. 4w+15`` (:func:`uniforms`), skipping excluded and repeated items;
    if that leaves items to draw, Gumbel-top over the rest completes it. Same distribution either way;
    the block computes the inverse-CDF rows together (one ``searchsorted`` when the pool is shared).
    """
    keys = np.asarray(keys, np.uint64)
    want = np.asarray(want, np.int64)
    exclude = np.asarray(exclude, np.int64).reshape(len(keys), -1)
    n = len(keys)
    out = np.full((n, int(want.max()) if n else 0), -1, np.int64)
    if not out.size:
        return out
    table = weights if isinstance(weights, DrawTable) else DrawTable.of(weights)
    weights, cum, in_pool, size, last = table.weights, table.cum, table.in_pool, table.size, table.last
    shared = weights.shape[0] == 1
    wrow = np.zeros(n, np.int64) if shared else np.arange(n)
    banned = (exclude >= 0) & in_pool[wrow[:, None], np.maximum(exclude, 0)]
    m = size[wrow] - np.count_nonzero(banned, axis=1)
    w = np.minimum(want, m)
    fast = np.flatnonzero((w > 0) & (4 * w <= m))
    slow = np.flatnonzero((w > 0) & (4 * w > m))
    if len(fast):
        tries = _draws(w[fast])
        u = uniforms(keys[fast], np.arange(int(tries.max())))
        targets = u * cum[wrow[fast], -1][:, None]
        if shared:
            hits = np.searchsorted(cum[0], targets.ravel(), side="right").reshape(targets.shape)
        else:
            hits = np.stack([np.searchsorted(cum[r], t, side="right") for r, t in zip(fast, targets)])
        hits = np.minimum(hits, last[wrow[fast]][:, None])
        j = np.arange(hits.shape[1])
        ok = (j[None, :] < tries[:, None]) & ~_member(hits, exclude[fast], weights.shape[1])
        ok &= ~((hits[:, :, None] == hits[:, None, :]) & (j[None, :] < j[:, None])[None]).any(axis=2)
        rank = np.cumsum(ok, axis=1)
        take = ok & (rank <= w[fast][:, None])
        done = rank[:, -1] >= w[fast]
        r_idx, c_idx = np.nonzero(take & done[:, None])
        out[fast[r_idx], rank[r_idx, c_idx] - 1] = hits[r_idx, c_idx]
        slow = np.r_[slow, fast[~done]]
    for r in slow.tolist():
        picked = _draw_row(weights[wrow[r]], cum[wrow[r]], int(keys[r]), exclude[r][exclude[r] >= 0], int(want[r]))
        out[r, :len(picked)] = picked
    return out


def _member(values: np.ndarray, sets: np.ndarray, width: int) -> np.ndarray:
    """bool[f, t]: ``values[r, j] in sets[r]`` (``values`` int[f, t] in [0, width); ``sets`` int[f, h], -1
    padding), by one sorted search over the rows' ``row × width + item`` codes (memory O(f·(t + h)))."""
    rows = np.arange(len(values), dtype=np.int64)[:, None] * width
    members = np.sort((rows + sets)[sets >= 0])
    if not len(members):
        return np.zeros(values.shape, bool)
    query = rows + values
    return members[np.minimum(np.searchsorted(members, query), len(members) - 1)] == query


#: A row whose filter removes at most this many items of the pool draws from the shared pool, those items
#: being excluded like the relevance head (:func:`draw_allowed`); a row that removes more gets its own table.
MAX_UNAVAILABLE = 1024


def draw_allowed(table: DrawTable, allowed: np.ndarray | None, keys, exclude: np.ndarray, want) -> np.ndarray:
    """:func:`draw_block` with row r limited to the items ``allowed[r]`` (bool[n or 1, N]; None = all):
    the same successive sampling over the pool of ``table`` (one shared row) minus what the row may not
    have. A row whose filter takes at most :data:`MAX_UNAVAILABLE` items out of the pool draws from the
    shared table with those items added to its ``exclude`` (a request with an "exclude what the user
    bought" filter costs no table of its own); a row that takes out more draws from its own table of the
    allowed pool. Which way a row goes depends on that row alone, so a row equals the same request drawn
    alone. Returns int64[n, max(want)] as :func:`draw_block`."""
    keys = np.asarray(keys, np.uint64)
    want = np.asarray(want, np.int64)
    exclude = np.asarray(exclude, np.int64).reshape(len(keys), -1)
    if allowed is None:
        return draw_block(table, keys, exclude, want)
    n = len(keys)
    out = np.full((n, int(want.max()) if n else 0), -1, np.int64)
    if not out.size:
        return out
    allowed = np.atleast_2d(np.asarray(allowed, bool))
    missing = np.greater(table.in_pool, allowed)            # [n or 1, N] pool items a row may not have
    counts = np.count_nonzero(missing, axis=1)
    few = np.broadcast_to(counts <= MAX_UNAVAILABLE, (n,))
    rows = np.flatnonzero(few)
    if len(rows):
        if len(missing) == 1:                               # one mask for the block
            holes = np.broadcast_to(np.flatnonzero(missing[0]), (len(rows), int(counts[0])))
        else:
            holes = np.full((len(rows), int(counts[rows].max())), -1, np.int64)
            for i, r in enumerate(rows.tolist()):
                cols = np.flatnonzero(missing[r])
                holes[i, :len(cols)] = cols
        got = draw_block(table, keys[rows], np.concatenate([exclude[rows], holes], axis=1), want[rows])
        out[rows, :got.shape[1]] = got
    rows = np.flatnonzero(~few)
    if len(rows):
        own = allowed if len(allowed) == 1 else allowed[rows]
        got = draw_block(DrawTable.of(np.where(own, table.weights, 0.0)), keys[rows], exclude[rows], want[rows])
        out[rows, :got.shape[1]] = got
    return out


def draw(candidates: np.ndarray, bonus: np.ndarray, n: int, key: int) -> np.ndarray:
    """``n`` of ``candidates`` (int item indices) without replacement, each draw with probability ∝ its
    ``bonus`` (float64 indexed by item; items of bonus 0 are never drawn) among those not drawn yet;
    returned in draw order. ``key``: :func:`request_seed`. One row of :func:`draw_block`."""
    candidates = np.asarray(candidates, np.int64)
    weights = np.zeros(len(bonus))
    weights[candidates] = np.asarray(bonus, np.float64)[candidates]
    picked = draw_block(weights[None], [key], np.empty((1, 0), np.int64), [n])[0]
    return picked[picked >= 0]


def blend_block(codes: np.ndarray, scores: np.ndarray, k: int, pool, bonus: np.ndarray | None,
                weight: float, keys, item_scores=None, allowed: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`blend` for many requests at once.

    ``codes`` int[n, L] / ``scores`` float64[n, L]: each row's relevance ranking, best first, -1 / NaN
    padded at the end (L ≤ k or more); ``pool`` bool[n or 1, N] and ``bonus`` float64[N], or ``pool`` the
    :class:`DrawTable` of both (``DrawTable.from_pool``, then ``bonus`` is not read), one row shared by
    every request when ``allowed`` (bool[n or 1, N]) limits each row to its own items (:func:`draw_allowed`:
    the runtime keeps one table per data state and lets each request's filter take items out); ``keys`` n
    request keys (:func:`request_seed`); ``item_scores``: callable ``(rows int[j], codes int[j]) →
    float64[j]`` giving the explored items' own scores (default 0.0). Returns ``(codes int64[n, k],
    scores float64[n, k], explored bool[n, k])``, -1 / NaN padded. Row r equals :func:`blend` of row r.
    """
    codes = np.asarray(codes, np.int64)
    scores = np.asarray(scores, np.float64)
    n = codes.shape[0]

    def fit(a, fill):                                       # a new (n, k) array
        a = a[:, :k]
        return a.copy() if a.shape[1] == k else np.concatenate([a, np.full((n, k - a.shape[1]), fill, a.dtype)], axis=1)

    out_codes, out_scores, explored = fit(codes, -1), fit(scores, np.nan), np.zeros((n, k), bool)
    n_slots = exploration_slots(weight, k)
    if n_slots == 0:
        return out_codes, out_scores, explored
    table = pool if isinstance(pool, DrawTable) else DrawTable.from_pool(pool, bonus)
    has_pool = np.broadcast_to(table.size > 0, (n,))
    if not has_pool.any():
        return out_codes, out_scores, explored
    head = max(0, k - n_slots)
    length = np.count_nonzero(codes >= 0, axis=1)
    head_r = np.minimum(head, length)
    want = np.where(has_pool, np.minimum(n_slots, k - head_r), 0)
    exclude = fit(codes, -1)[:, :head]
    picked = draw_allowed(table, allowed, keys, exclude, want)
    got = picked >= 0
    own = np.zeros(picked.shape)
    if item_scores is not None and got.any():
        rows, cols = np.nonzero(got)
        own[rows, cols] = item_scores(rows, picked[rows, cols])
    order = np.lexsort((np.broadcast_to(np.arange(picked.shape[1]), picked.shape), -own, ~got), axis=1)
    picked, own = np.take_along_axis(picked, order, axis=1), np.take_along_axis(own, order, axis=1)
    count = np.count_nonzero(got, axis=1)
    simple = has_pool & (head_r == head) & (count == n_slots)      # head + explored items fill the list
    if simple.any() and n_slots:
        out_codes[simple, head:] = picked[simple, :n_slots]
        out_scores[simple, head:] = own[simple, :n_slots]
        explored[simple, head:] = True
    for r in np.flatnonzero(has_pool & ~simple).tolist():
        h, p, s = int(head_r[r]), picked[r, :count[r]], own[r, :count[r]]
        rest = codes[r, h:length[r]]
        keep = ~np.isin(rest, p)
        tail = rest[keep][:max(0, k - h - len(p))]
        tail_scores = scores[r, h:length[r]][keep][:len(tail)]
        row_codes = np.concatenate([codes[r, :h], tail, p])
        out_codes[r], out_scores[r], explored[r] = -1, np.nan, False
        out_codes[r, :len(row_codes)] = row_codes
        out_scores[r, :len(row_codes)] = np.concatenate([scores[r, :h], tail_scores, s])
        explored[r, h + len(tail):len(row_codes)] = True
    return out_codes, out_scores, explored


def blend(codes: np.ndarray, scores: np.ndarray, k: int, pool: np.ndarray, bonus: np.ndarray, weight: float,
          key: int, item_scores=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``k``-item list from the relevance ranking and exploration (module docstring).

    ``codes`` int[m] / ``scores`` float64[m]: the relevance ranking (best first, m ≤ k); ``pool``
    bool[n]: the exploration pool; ``bonus`` float64[n]; ``key``: :func:`request_seed`;
    ``item_scores``: callable int[j] → float64[j] giving the explored items' own scores (default 0.0).
    Returns ``(codes int64[k'], scores float64[k'], explored bool[k'])``. One row of :func:`blend_block`.
    """
    codes = np.asarray(codes, np.int64)
    one = None if item_scores is None else (lambda rows, c: item_scores(c))
    out, s, e = blend_block(codes[None], np.asarray(scores, np.float64)[None], k, np.asarray(pool, bool)[None],
                            bonus, weight, [key], one)
    keep = out[0] >= 0
    return out[0][keep], s[0][keep], e[0][keep]
