"""control/memo.WeakLRU: the runtime caches' memo (least recently used dropped first; an entry dies with
the objects its key names by identity)."""

from __future__ import annotations

import gc

import numpy as np

from localpersonalize.control.memo import WeakLRU


def test_the_least_recently_used_entry_goes_first():
    memo = WeakLRU(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1          # "a" is now the most recent
    memo.put("c", 3)
    assert memo.get("b") is None and memo.get("a") == 1 and memo.get("c") == 3
    assert len(memo) == 2


def test_an_entry_is_gone_once_an_object_its_key_names_is_freed():
    memo = WeakLRU(4)
    column = np.arange(3)
    memo.put(("state", id(column)), "answer", [column])
    assert memo.get(("state", id(column))) == "answer"
    key = ("state", id(column))
    del column
    gc.collect()
    assert memo.get(key) is None       # the id may name another array now


def test_an_entry_is_dropped_when_an_object_its_key_names_is_freed():
    memo = WeakLRU(4)
    column, model = np.arange(3), np.arange(4)
    memo.put(("a", id(column)), "kept while the column lives", [column, model])
    memo.put(("b", id(model)), "kept", [model])
    assert len(memo) == 2
    del column
    gc.collect()
    assert len(memo) == 1 and memo.get(("b", id(model))) == "kept"   # gone at once, not when evicted


def test_a_newer_entry_of_the_same_key_survives_the_old_referent():
    memo = WeakLRU(4)
    old, new = np.arange(3), np.arange(5)
    memo.put("k", "old", [old])
    memo.put("k", "new", [new])
    del old
    gc.collect()
    assert memo.get("k") == "new"
