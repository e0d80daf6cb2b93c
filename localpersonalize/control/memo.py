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
    of its referents has been freed (its id may since name another object).
    """

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or any(ref() is None for ref in hit[1]):
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def put(self, key, value, referents=()) -> None:
        refs = [weakref.ref(r) for r in referents]
        with self._lock:
            self._entries[key] = (value, refs)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
