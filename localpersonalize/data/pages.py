"""Large numpy arrays on plain 4 KiB pages.

numpy asks the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) for every allocation of
4 MiB or more. Where THP is in ``madvise`` mode with ``defrag=madvise`` (this project's reference machine,
a 2-core VM), the first write to each fresh 2 MiB page may stall in compaction and in the hypervisor
backing the page: writing a new 160 MB array took 0.24-0.41 s on huge pages and 0.08-0.11 s on 4 KiB
pages (``bench/RESULTS.md``, fourth session). A bulk import writes every row of its columns once into
fresh memory, so it allocates them here. The memory goes back to the system when the array is freed
(the mapping is closed with its last view).
"""
from __future__ import annotations

import mmap

import numpy as np

#: Arrays smaller than this (bytes) come from numpy's allocator as usual (its huge-page threshold).
MIN_BYTES = 4 << 20


def empty(n: int, dtype) -> np.ndarray:
    """An uninitialised writable 1-d array of ``n`` elements of ``dtype``, on an anonymous private mapping of
    4 KiB pages when it takes at least :data:`MIN_BYTES` bytes (pages are zero until written and are only
    resident once written), else ``np.empty``."""
    dtype = np.dtype(dtype)
    nbytes = n * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(n, dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS), dtype)
