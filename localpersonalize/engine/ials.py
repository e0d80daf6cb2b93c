"""Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) with batched conjugate gradient, float32.

Loss: ``Σ_{u,i} c_ui (p_ui − x_u·y_i)² + reg (‖X‖² + ‖Y‖²)`` over **all**
(user, item) cells, with preference ``p_ui = 1`` for observed pairs (0
otherwise) and confidence ``c_ui = 1 + alpha · r_ui`` (1 for unobserved),
``r`` the interaction count (or binarised, see ``fit``).

Each half-step solves, for every user at once,
``(YᵀY + reg·I + Yᵀ (C_u − I) Y) x_u = Yᵀ C_u p_u`` by ``cg_steps`` steps of
conjugate gradient warm-started at the previous factors (Takács et al. 2011;
the scheme of the `implicit` library, ``YᵀY`` computed once per half-step).
A CG mat-vec needs the dots ``x_u·y_i`` only at the stored pairs: they are
gathered in cache-sized chunks (:data:`_CHUNK` pairs) and scattered back with
a scipy CSR product, so one half-step costs O(nnz·k·cg_steps + U·k²) time and
O(chunk·k) extra memory. Rows are cut into tasks of about :data:`_TASK_PAIRS`
pairs that run the whole CG on their own rows (CG is independent per row) on
a thread pool (numpy and scipy release the GIL); the result does not depend
on the number of threads. No Python loop over users.

Serving is by **fold-in**: for a history h with weights w, the user vector
is the exact solution of the same normal equations (k×k solve), so a known
user's vector is reproduced from their training history and new users /
real-time events need no retraining (spec 70-engine-notes §7.3). Histories
are solved together: rows of equal length are stacked into batched matrix
products and one stacked ``np.linalg.solve`` (L×L systems by the Woodbury
identity when the history is shorter than k, see :func:`_exact_solve`), so a
row's answer is the same alone or in a batch.
Defaults (k=64, alpha=5, reg=1, 15 iterations) are those measured in spec 70 §4.2.
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .interactions import Interactions

__all__ = ["IALSModel"]

#: Stored pairs whose factor rows are gathered at once (8192 × k=64 float32 = 2 MB: stays in cache).
_CHUNK = 8192
#: Stored pairs per CG task (a contiguous row range run by one pool thread).
_TASK_PAIRS = 1 << 17
#: Rows of a fold-in whose affinity product runs with BLAS on one thread (IALSModel.affinity_many).
_ONE_THREAD_ROWS = 32
#: Most padded history slots (rows × length) stacked in one batched fold-in solve (× k float64 each).
_SOLVE_SLOTS = 1 << 16


def _threads() -> int:
    """Worker threads for the CG tasks: the usable CPUs (``os.sched_getaffinity``), at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:                                  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(8, n))


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit = None
_blas_controller = None


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS (OpenBLAS/MKL) limited to one thread inside the block. Training: the CG pool threads are the
    parallelism, and BLAS threads under each of them oversubscribe the cores (2 busy cores: 16.8 s instead
    of 5.1 s for the 1M-pair benchmark fit). Fold-in: a k×k solve is too small for threads, yet OpenBLAS
    wakes its pool for each one; from a job's worker thread on a loaded machine that cost 11 ms per user
    at k = 149 instead of 0.8 ms. The limit is process-wide (that is how BLAS libraries work), so it is
    reference-counted: concurrent users (HPO trials, requests, jobs) share it and the last one out restores
    the previous thread count. Uses threadpoolctl (the library ``implicit`` asks its users to apply); its
    controller is built once (entering the limit then costs ~10 µs)."""
    global _blas_users, _blas_limit, _blas_controller
    with _blas_lock:
        if _blas_users == 0:
            if _blas_controller is None:
                from threadpoolctl import ThreadpoolController
                _blas_controller = ThreadpoolController()
            _blas_limit = _blas_controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def _tasks(indptr: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous row ranges ``(r0, r1)`` of a CSR holding about :data:`_TASK_PAIRS` stored pairs each."""
    n = len(indptr) - 1
    cuts = np.searchsorted(indptr, np.arange(_TASK_PAIRS, int(indptr[-1]), _TASK_PAIRS), side="left")
    bounds = np.unique(np.r_[0, np.clip(cuts, 0, n), n])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _cg_rows(X, Y, G, C, ar, r0, r1, cg_steps):
    """Run ``cg_steps`` warm-started CG steps for rows ``r0:r1`` of X (float32[n, k], updated in place).

    ``C`` CSR (n, m) of the confidence increments r, ``ar = alpha · C.data`` float32[nnz], ``G = YᵀY +
    reg·I`` float32[k, k]. Row u solves ``(G + Yᵀ diag(alpha r_u) Y) x_u = Σ_i (1 + alpha r_ui) y_i``.
    """
    a0, a1 = int(C.indptr[r0]), int(C.indptr[r1])
    indptr = (C.indptr[r0:r1 + 1] - a0).astype(np.int64)
    cols = C.indices[a0:a1]
    w = ar[a0:a1]
    rows = np.repeat(np.arange(r1 - r0), np.diff(indptr))
    shape = (r1 - r0, Y.shape[0])
    k = Y.shape[1]
    buf_p = np.empty((min(_CHUNK, a1 - a0), k), np.float32)
    buf_y = np.empty_like(buf_p)

    def spread(values):
        return sp.csr_matrix((values, cols, indptr), shape=shape) @ Y

    def matvec(P):
        d = np.empty(a1 - a0, np.float32)                   # d[p] = P[row p] · Y[col p]
        for a in range(0, a1 - a0, _CHUNK):
            b = min(a1 - a0, a + _CHUNK)
            bp, by = buf_p[:b - a], buf_y[:b - a]
            np.take(P, rows[a:b], axis=0, out=bp, mode="clip")    # indices are valid: "clip" skips
            np.take(Y, cols[a:b], axis=0, out=by, mode="clip")    # numpy's slow checked path
            np.matmul(bp[:, None, :], by[:, :, None], out=d[a:b, None, None])
        d *= w
        return P @ G + spread(d)

    x = X[r0:r1]
    R = spread(1.0 + w) - matvec(x)
    Pd = R.copy()
    rs_old = np.einsum("ij,ij->i", R, R)
    for _ in range(cg_steps):
        AP = matvec(Pd)
        denom = np.einsum("ij,ij->i", Pd, AP)
        a = np.divide(rs_old, denom, out=np.zeros_like(rs_old), where=denom > 0)
        x += a[:, None] * Pd
        R -= a[:, None] * AP
        rs_new = np.einsum("ij,ij->i", R, R)
        beta = np.divide(rs_new, rs_old, out=np.zeros_like(rs_new), where=rs_old > 0)
        Pd = R + beta[:, None] * Pd
        rs_old = rs_new


def _cg_half_step(X, Y, C, alpha, reg, cg_steps, pool):
    """Update X (float32[n, k]) in place for fixed Y (float32[m, k]) by :func:`_cg_rows` over row tasks.

    ``C`` is CSR (n, m) with data = r (the raw confidence increments); ``alpha`` scales them; ``pool`` a
    ThreadPoolExecutor (or None: run the tasks in this thread).
    """
    G = Y.T @ Y
    G[np.diag_indices_from(G)] += reg
    ar = (alpha * C.data).astype(np.float32)
    tasks = _tasks(C.indptr)
    run = (lambda t: _cg_rows(X, Y, G, C, ar, t[0], t[1], cg_steps))
    if pool is None or len(tasks) < 2:
        for t in tasks:
            run(t)
    else:
        list(pool.map(run, tasks))


class IALSModel(Recommender):
    """Implicit-ALS embedding model.

    Attributes: ``item_factors`` float32[n_items, k]; ``user_factors``
    float32[n_users, k] (training users, for inspection — serving folds in);
    ``alpha``, ``reg`` as in training. Affinity ``a_ui = x_u·y_i``; scores are
    ``softmax(a_u)`` — the documented Personalize formula exp(w_u·w_i)/Σ_j exp(w_u·w_j).
    """

    name = "ials"

    def __init__(self, n_items, popularity, item_factors, user_factors, alpha, reg):
        super().__init__(n_items, popularity)
        self.item_factors = item_factors
        self.user_factors = user_factors
        self.alpha = float(alpha)
        self.reg = float(reg)
        self._gram = (item_factors.T.astype(np.float64) @ item_factors.astype(np.float64))
        self._gram[np.diag_indices_from(self._gram)] += self.reg
        self._gram_inv = None                                # gram⁻¹ for short fold-ins, computed on first use

    @classmethod
    def fit(cls, interactions: Interactions, factors: int = 64, iterations: int = 15,
            alpha: float = 5.0, reg: float = 1.0, cg_steps: int = 3, seed: int = 0,
            binary: bool = True, item_init: np.ndarray | None = None) -> "IALSModel":
        """Train; deterministic for a given ``seed`` (init ~ N(0, 0.01²) from ``default_rng(seed)``).

        ``binary``: r_ui = 1 per (user, item) pair (default) or the event count. ``item_init``
        float32[m, factors] warm-starts the item factors of the first ``m`` items (e.g. from a model
        trained on most of the same data, so a few iterations suffice).
        Sets ``repeat_rate`` from ``interactions`` (repeat-aware scoring, base.py).
        Raises ValueError if ``factors`` < 1 or ``iterations`` < 0.
        """
        if factors < 1 or iterations < 0:
            raise ValueError(f"factors must be >= 1 and iterations >= 0 (got {factors}, {iterations})")
        Cui = interactions.to_csr(binary=binary)
        Ciu = Cui.T.tocsr()
        Ciu.sort_indices()
        rng = np.random.default_rng(seed)
        X = (rng.standard_normal((interactions.n_users, factors)) * 0.01).astype(np.float32)
        Y = (rng.standard_normal((interactions.n_items, factors)) * 0.01).astype(np.float32)
        if item_init is not None:
            Y[:len(item_init)] = item_init[:interactions.n_items]
        with _one_blas_thread(), ThreadPoolExecutor(_threads()) as pool:
            for _ in range(iterations):
                _cg_half_step(X, Y, Cui, alpha, reg, cg_steps, pool)
                _cg_half_step(Y, X, Ciu, alpha, reg, cg_steps, pool)
        pop = np.asarray((Cui > 0).sum(axis=0)).ravel().astype(np.float64)
        return cls(interactions.n_items, pop, Y, X, alpha, reg).learn_repeat_rate(interactions)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """User vectors float64[n, k] solving the ALS normal equations exactly for each row.

        Row values are the confidence increments r (1.0 for a plain event,
        smaller for older events under recency weighting).
        """
        if self._gram_inv is None:
            self._gram_inv = np.linalg.inv(self._gram)
        return _exact_solve(self.item_factors, self._gram, histories, self.alpha, self._gram_inv)

    def update(self, interactions: Interactions) -> "IALSModel":
        """A copy folding in new items and users of ``interactions`` without retraining (``trainingMode=UPDATE``).

        ``interactions``: the dataset group's current data (index spaces ≥ the model's). Known item
        vectors are kept; user vectors are the trained ones, or folded in from the current history for
        users the model has not seen; each new item's vector is then the exact ALS solution for fixed
        user vectors (the item-side normal equations over the users who interacted with it), which is
        what one more half-step of training would give it. Deterministic.
        """
        n_new = interactions.n_items - self.n_items
        if n_new < 0 or interactions.n_users < self.user_factors.shape[0]:
            raise ValueError("UPDATE needs the model's index spaces or larger ones")
        C = interactions.to_csr(binary=True)
        U = np.zeros((interactions.n_users, self.item_factors.shape[1]), np.float64)
        n_old_u = self.user_factors.shape[0]
        U[:n_old_u] = self.user_factors
        old_rows = C[:n_old_u]
        cold = np.flatnonzero(np.diff(old_rows.indptr) == 0)          # trained without events
        new_users = np.r_[cold, np.arange(n_old_u, interactions.n_users)]
        if len(new_users):
            U[new_users] = self.fold_in(C[new_users][:, :self.n_items])
        Y = np.zeros((interactions.n_items, U.shape[1]), np.float32)
        Y[:self.n_items] = self.item_factors
        if n_new:
            gram_u = U.T @ U
            gram_u[np.diag_indices_from(gram_u)] += self.reg
            Y[self.n_items:] = _exact_solve(U.astype(np.float32), gram_u, C[:, self.n_items:].T.tocsr(), self.alpha)
        pop = np.asarray(C.sum(axis=0)).ravel().astype(np.float64)
        out = IALSModel(interactions.n_items, pop, Y, U.astype(np.float32), self.alpha, self.reg)
        out.temperature, out.repeat_rate, out.history_half_life = \
            self.temperature, self.repeat_rate, self.history_half_life
        return out

    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """float64[n, n_items] = fold_in(histories) @ item_factorsᵀ (the product in float32, like training:
        no float64 copy of the catalogue's factors per request). For a few rows (a runtime request, at most
        :data:`_ONE_THREAD_ROWS`) the product runs with BLAS on one thread: it is a matrix-vector product,
        memory-bound, and OpenBLAS's threads cost more than they give — 100k items × 64 factors took 16 ms
        with its two threads on a loaded 2-core machine, 1.1 ms on one."""
        if histories.shape[0] > _ONE_THREAD_ROWS:
            return (self.fold_in(histories).astype(np.float32) @ self.item_factors.T).astype(np.float64)
        with _one_blas_thread():                            # one limit for the fold-in's solve and the product
            return (self.fold_in(histories).astype(np.float32) @ self.item_factors.T).astype(np.float64)


def _exact_solve(F: np.ndarray, gram: np.ndarray, H: sp.csr_matrix, alpha: float,
                 gram_inv: np.ndarray | None = None) -> np.ndarray:
    """Exact ALS solutions float64[n, k], one per row of ``H`` (CSR (n, m), values = confidence increments r).

    ``F`` float32[m, k] are the fixed factors of the other side and ``gram = FᵀF + reg·I`` (float64
    [k, k]); row r solves ``(gram + α Σ_i r_i f_i f_iᵀ) x = Σ_i (1 + α r_i) f_i`` over its stored i.
    Empty rows give 0. Rows with the same number L of stored entries are solved together (stacked
    products and one stacked ``np.linalg.solve``, at most :data:`_SOLVE_SLOTS` entries at once), so a
    row's solution does not depend on the other rows of ``H``; BLAS runs on one thread meanwhile
    (:func:`_one_blas_thread`). Short rows (L < k, the usual history) use the Woodbury identity with
    ``gram⁻¹``: with ``Fh`` the row's L factor rows, ``D = diag(α r)``, ``c = 1 + α r``, ``Q = Fh gram⁻¹``
    and ``K = Q Fhᵀ``, ``x = Qᵀ (c − s)`` where ``(I + D K) s = D K c`` — an L×L solve instead of a k×k
    one (k = 149, the recipe default: 0.8 ms → tens of µs a user); longer rows solve the k×k system.
    ``gram_inv`` (optional, float64[k, k]) is ``gram⁻¹`` if the caller keeps it. Only the histories' rows
    of ``F`` are copied (no catalogue-size float64 copy).
    """
    H = sp.csr_matrix(H, dtype=np.float64)
    k = F.shape[1]
    out = np.zeros((H.shape[0], k))
    lens = np.diff(H.indptr)
    order = np.argsort(lens, kind="stable")
    bounds = np.flatnonzero(np.diff(lens[order])) + 1      # runs of equal length in ``order``
    with _one_blas_thread():
        if gram_inv is None and len(order) and lens[order[0]] < k:
            gram_inv = np.linalg.inv(gram)
        for s, e in zip(np.r_[0, bounds], np.r_[bounds, len(order)]):
            L = int(lens[order[s]])
            if L == 0:
                continue
            step = max(1, _SOLVE_SLOTS // L)
            for a in range(s, e, step):
                r = order[a:min(e, a + step)]
                pos = H.indptr[r][:, None] + np.arange(L)  # (n_b, L) positions of the rows' entries
                Fh = F[H.indices[pos]].astype(np.float64)   # (n_b, L, k)
                aw = alpha * H.data[pos]                    # (n_b, L)
                c = 1.0 + aw
                if L < k:                                   # Woodbury: L×L systems
                    Q = np.matmul(Fh, gram_inv)             # (n_b, L, k)
                    DK = aw[:, :, None] * np.matmul(Q, Fh.transpose(0, 2, 1))
                    DK_c = np.matmul(DK, c[:, :, None])
                    DK[:, np.arange(L), np.arange(L)] += 1.0
                    sol = np.linalg.solve(DK, DK_c)[:, :, 0]
                    out[r] = np.matmul((c - sol)[:, None, :], Q)[:, 0, :]
                else:
                    A = np.matmul(np.ascontiguousarray((Fh * aw[:, :, None]).transpose(0, 2, 1)), Fh)
                    A += gram
                    out[r] = np.linalg.solve(A, np.matmul(c[:, None, :], Fh).transpose(0, 2, 1))[:, :, 0]
    return out
