"""A small least-recently-used memo for the runtime's per-request caches (serving's answers, the runtime's
eligible masks): keys that name objects by identity stay valid only while those objects live."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict


class WeakLRU:
    """At most ``size`` entries, least recently used dropped first; thread-safe.

    ``put(key, value, referents)`` keeps weak references to ``referents`` (the objects whose ``id()`` the
    key holds: a model, column arrays); ``get(key)`` returns the value, or None when the key is absent or one
    of its referents has been freed (its id may since name another object). An entry is dropped as soon as
    one of its referents is freed, so values of a past data state (a runtime's tables of a catalogue's size)
    do not wait for the least-recently-used rule to go.
    """

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        # re-entrant: a referent freed while this thread holds the lock runs _forget in this thread
        self._lock = threading.RLock()

    def get(self, key):
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or any(ref() is None for ref in hit[1]):
                return None
            if key in self._entries:
                self._entries.move_to_end(key)
            return hit[0]

    def put(self, key, value, referents=()) -> None:
        me = weakref.ref(self)

        def forget(ref, key=key):
            cache = me()
            if cache is not None:
                cache._forget(key, ref)

        refs = [weakref.ref(r, forget) for r in referents]
        with self._lock:
            self._entries[key] = (value, refs)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def _forget(self, key, ref) -> None:
        """Drop ``key``'s entry if it is the one that held ``ref`` (not a newer entry of the same key)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and any(r is ref for r in hit[1]):
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
