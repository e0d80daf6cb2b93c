"""Training input of the engine: integer-indexed interactions.

The engine never sees string IDs, ARNs or HTTP: the data/control layers map
USER_ID / ITEM_ID strings to dense integer indices ``0..n_users-1`` and
``0..n_items-1`` and hand the engine an :class:`Interactions` (DESIGN.md,
"What a request goes through").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["Interactions", "from_arrays"]


@dataclass(frozen=True)
class Interactions:
    """Interactions of users with items, one row per event.

    Attributes
    ----------
    user_idx : int32[n]
        User index of each event, ``0 <= user_idx < n_users``.
    item_idx : int32[n]
        Item index of each event, ``0 <= item_idx < n_items``.
    timestamp : int64[n]
        Event time in Unix epoch **seconds** (the Personalize TIMESTAMP field).
    n_users, n_items : int
        Sizes of the index spaces. Users/items without events are allowed
        (they are simply empty rows/columns).
    event_value : float32[n] or None
        Optional EVENT_VALUE per event; NaN means "no value". Kept for
        callers that filter by value; the models here treat every event as
        a positive implicit interaction.

    Raises
    ------
    ValueError
        (from ``__post_init__``) if array lengths differ or an index is out
        of range.
    """

    user_idx: np.ndarray
    item_idx: np.ndarray
    timestamp: np.ndarray
    n_users: int
    n_items: int
    event_value: np.ndarray | None = field(default=None)

    def __post_init__(self):
        u = np.ascontiguousarray(self.user_idx, dtype=np.int32)
        i = np.ascontiguousarray(self.item_idx, dtype=np.int32)
        t = np.ascontiguousarray(self.timestamp, dtype=np.int64)
        object.__setattr__(self, "user_idx", u)
        object.__setattr__(self, "item_idx", i)
        object.__setattr__(self, "timestamp", t)
        object.__setattr__(self, "n_users", int(self.n_users))
        object.__setattr__(self, "n_items", int(self.n_items))
        if not (len(u) == len(i) == len(t)):
            raise ValueError(f"length mismatch: user_idx {len(u)}, item_idx {len(i)}, timestamp {len(t)}")
        if self.event_value is not None:
            v = np.ascontiguousarray(self.event_value, dtype=np.float32)
            if len(v) != len(u):
                raise ValueError(f"length mismatch: event_value {len(v)} vs {len(u)} events")
            object.__setattr__(self, "event_value", v)
        if len(u):
            if u.min() < 0 or u.max() >= self.n_users:
                raise ValueError(f"user_idx out of range [0, {self.n_users})")
            if i.min() < 0 or i.max() >= self.n_items:
                raise ValueError(f"item_idx out of range [0, {self.n_items})")

    def __len__(self) -> int:
        return len(self.user_idx)

    # ------------------------------------------------------------------ views
    def to_csr(self, binary: bool = True) -> sp.csr_matrix:
        """User × item matrix, ``scipy.sparse.csr_matrix`` float32 of shape (n_users, n_items).

        Duplicate (user, item) events are **binarised** to 1.0 when
        ``binary=True`` (the default: implicit feedback, "did interact"), or
        **summed** into an event count when ``binary=False``. Indices are
        sorted within each row.
        """
        data = np.ones(len(self), dtype=np.float32)
        m = sp.csr_matrix((data, (self.user_idx, self.item_idx)),
                          shape=(self.n_users, self.n_items), dtype=np.float32)
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        m.sort_indices()
        return m

    def time_order(self) -> np.ndarray:
        """Permutation int64[n] sorting events by (user, timestamp, original position).

        Stable: events with equal timestamps keep their input order.
        """
        return np.lexsort((np.arange(len(self)), self.timestamp, self.user_idx))

    def user_histories(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-user history in time order, oldest first, as a CSR-like pair.

        Returns ``(indptr int64[n_users+1], items int32[n])``: the history of
        user ``u`` is ``items[indptr[u]:indptr[u+1]]`` (duplicates kept, in
        event order). Use :meth:`history` for a single user.
        """
        order = self.time_order()
        counts = np.bincount(self.user_idx, minlength=self.n_users)
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, self.item_idx[order]

    def history(self, user: int) -> np.ndarray:
        """Items int32[m] user ``user`` interacted with, oldest first (duplicates kept)."""
        sel = np.flatnonzero(self.user_idx == user)
        sel = sel[np.lexsort((sel, self.timestamp[sel]))]
        return self.item_idx[sel]

    def subset(self, mask: np.ndarray) -> "Interactions":
        """The events where ``mask`` (bool[n]) is true, with the same index spaces."""
        ev = None if self.event_value is None else self.event_value[mask]
        return Interactions(self.user_idx[mask], self.item_idx[mask], self.timestamp[mask],
                            self.n_users, self.n_items, ev)


def from_arrays(user_idx, item_idx, timestamp=None, n_users=None, n_items=None,
                event_value=None) -> Interactions:
    """Convenience constructor: sizes default to ``max index + 1``, timestamps to 0..n-1."""
    u = np.asarray(user_idx, dtype=np.int32)
    i = np.asarray(item_idx, dtype=np.int32)
    t = np.arange(len(u), dtype=np.int64) if timestamp is None else np.asarray(timestamp, dtype=np.int64)
    nu = int(u.max()) + 1 if n_users is None else n_users
    ni = int(i.max()) + 1 if n_items is None else n_items
    return Interactions(u, i, t, nu, ni, event_value)
