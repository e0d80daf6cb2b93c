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
