"""EASE: Embarrassingly Shallow Autoencoder (Steck, WWW 2019, arXiv 1905.03375).

Item-item linear model ``B = I - P diag(1/diag P)``, ``P = (XᵀX + λI)⁻¹`` on
the binary user × item matrix X; a user's affinity is ``a = x B`` (row
vector of their history). The most accurate engine measured on MovieLens in
spec 70-engine-notes §4.2 (nDCG@10 0.103 vs iALS 0.081 on ml-latest-small).

Two exact solvers, picked by shape (both give the same B):

* **primal** (n_items ≤ n_users): invert the I×I Gram matrix in float32
  with LAPACK ``potrf`` + ``potri`` (Cholesky, then the inverse from the
  factor: 0.5 s for 4k items on 2 cores, 10× faster than float64
  ``cho_solve(I)``); model stores dense B (I² float32) and diag P.
* **dual** (n_users < n_items): by the Woodbury identity
  ``P = (I - Xᵀ M X)/λ`` with ``M = (λI + XXᵀ)⁻¹`` (U×U), so
  ``x P = (x - ((x Xᵀ) M) X)/λ`` and ``diag P = (1 - d)/λ`` with
  ``d_j = Σ_u X_uj (XᵀM)_ju``. Training is O(U³ + nnz·U) and the model keeps
  X (sparse) and M; B is never materialised. ml-latest-small (549 training
  users × 9.7k items) trains in well under a second this way, against
  ~9 s for the primal potri in the notes.

Cost is cubic in min(U, I): the registry only uses EASE when that is small
(see ``engine/__init__.py``).

``trainingMode=UPDATE`` (:meth:`EASEModel.update`) folds new items in
without refactorising: in the dual form the new item columns join X and
their ``d`` entries are computed with the trained M (the user kernel is kept);
in the primal form a new item j gets the column ``b_j = P Xᵀ x_j`` (the ridge
regression of the new item on the trained items, with the trained P), so it
is recommended to users whose history predicts it; the new items' own rows
stay 0 (they predict nothing until the next FULL training).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .base import Recommender
from .ials import _one_blas_thread, _threads
from .interactions import Interactions

__all__ = ["EASEModel"]


class EASEModel(Recommender):
    """EASE with λ = ``l2`` (default 300, the value measured in spec 70 §4.2)."""

    name = "ease"

    def __init__(self, n_items, popularity, l2, B=None, X=None, M=None, d=None, P_diag=None, user_rows=None):
        super().__init__(n_items, popularity)
        self.l2 = float(l2)
        self.B, self.X, self.M, self.d = B, X, M, d
        #: primal: diag of P = (XᵀX + λI)⁻¹ (float64[I]); dual: user index of each row of X (int64[U]).
        #: Both are kept for UPDATE.
        self.P_diag, self.user_rows = P_diag, user_rows

    @classmethod
    def fit(cls, interactions: Interactions, l2: float = 300.0, solver: str = "auto") -> "EASEModel":
        """Train on binarised interactions.

        ``solver`` is "primal", "dual" or "auto" (dual when there are fewer
        users with interactions than items). Deterministic (no randomness).
        Sets ``repeat_rate`` from ``interactions`` (repeat-aware scoring, base.py; :func:`_repeat_rate`).
        Raises ValueError for an unknown solver.
        """
        X, user_rows, pop = _binary_rows(interactions)
        n_u, n_i = X.shape
        if solver == "auto":
            solver = "dual" if n_u < n_i else "primal"
        if solver == "primal":
            model = cls._primal(_spd_inverse(_gram(X, l2)), pop, l2)
            model.repeat_rate = _repeat_rate(len(interactions), X.nnz, n_u)
            return model
        if solver != "dual":
            raise ValueError(f"unknown EASE solver {solver!r}")
        K = (X @ X.T).toarray().astype(np.float64)
        K[np.diag_indices_from(K)] += l2
        M = sla.cho_solve(sla.cho_factor(K, lower=True, check_finite=False),
                          np.eye(n_u), check_finite=False)
        # d = diag(XᵀMX), in item blocks so the dense (block, U) product stays ≤ ~4M cells
        Xt = X.T.tocsr()
        d = np.zeros(n_i)
        step = max(1, 4_000_000 // max(1, n_u))
        for s in range(0, n_i, step):
            blk = Xt[s:s + step]
            d[s:s + step] = np.asarray(blk.multiply(blk @ M).sum(axis=1)).ravel()
        model = cls(n_i, pop, l2, X=X.astype(np.float64).tocsr(), M=M, d=d, user_rows=user_rows)
        model.repeat_rate = _repeat_rate(len(interactions), X.nnz, n_u)
        return model

    @classmethod
    def fit_with_probe(cls, interactions: Interactions, train: Interactions, test_users: np.ndarray,
                       l2: float = 300.0) -> tuple["EASEModel", "EASEModel"]:
        """``(fit(interactions, l2), fit(train, l2))`` where ``train`` is ``interactions`` without the events
        of ``test_users`` (distinct user indices int[t], e.g. Personalize's holdout users, engine/metrics.py),
        for one Gram matrix and one inverse instead of two.

        The probe's inverse is a rank-t downdate of the full one (Woodbury): with ``P = (XᵀX + λI)⁻¹`` and
        the test users' rows ``Xₜ`` (t × I), ``P_probe = (XᵀX − XₜᵀXₜ + λI)⁻¹ = P + Wᵀ S⁻¹ W``,
        ``W = Xₜ P`` (t × I), ``S = I − Xₜ Wᵀ`` (t × t, symmetric positive definite): O(t·I²) instead of
        an O(I³) inverse. Used when the primal solver applies to ``interactions`` and t ≤ I / 4;
        otherwise the two models are fitted separately. Both models equal :meth:`fit` up to float32
        rounding (the probe's B within ~1e-5 of a direct fit); deterministic. The probe's item popularity
        and repeat rate are those of ``interactions`` less the test users' events (= those of ``train``).
        """
        X_all = interactions.to_csr(binary=True)
        X, _, pop = _binary_rows(interactions, X_all)
        test_users = np.asarray(test_users, dtype=np.int64)
        if X.shape[0] < X.shape[1] or len(test_users) > X.shape[1] // 4:
            return cls.fit(interactions, l2), cls.fit(train, l2)
        P = _spd_inverse(_gram(X, l2))
        X_t = X_all[test_users]
        W = np.asarray(X_t @ P, dtype=np.float32)           # t × I = Xₜ P (P symmetric)
        with _one_blas_thread():                            # t × t: too small for BLAS threads
            S = np.eye(len(test_users), dtype=np.float32) - X_t @ W.T
            V = sla.solve_triangular(sla.cholesky(S, lower=True, check_finite=False), W, lower=True,
                                     check_finite=False)
        P_probe = V.T @ V                                   # Wᵀ S⁻¹ W (numpy: syrk, both triangles)
        P_probe += P
        probe = cls._primal(P_probe, pop - np.bincount(X_t.indices, minlength=X.shape[1]), l2)
        test_active = np.count_nonzero(np.diff(X_t.indptr))
        probe.repeat_rate = _repeat_rate(len(train), X.nnz - X_t.nnz, X.shape[0] - test_active)
        model = cls._primal(P, pop, l2)
        model.repeat_rate = _repeat_rate(len(interactions), X.nnz, X.shape[0])
        return model, probe

    @classmethod
    def _primal(cls, P: np.ndarray, pop: np.ndarray, l2: float) -> "EASEModel":
        """Primal model from ``P = (XᵀX + λI)⁻¹`` (float32, symmetric), which is overwritten by
        ``B = I − P diag(1/diag P)``."""
        dP = np.diag(P).astype(np.float64)
        P *= (-1.0 / np.diag(P))[None, :]
        np.fill_diagonal(P, 0.0)
        return cls(P.shape[0], pop, l2, B=P, P_diag=dP)

    def update(self, interactions: Interactions) -> "EASEModel":
        """A copy folding in the items of ``interactions`` the model has not seen (``trainingMode=UPDATE``).

        ``interactions`` is the dataset group's current data (its ``n_items`` ≥ this model's). Known
        items keep their weights; new item columns are computed with the trained solver state (module
        docstring); popularity and the trained-item mask are recomputed on all of ``interactions``.
        New users need nothing: they are folded in at request time. Deterministic.
        """
        X_all = interactions.to_csr(binary=True)
        pop = np.asarray(X_all.sum(axis=0)).ravel().astype(np.float64)
        n_new = interactions.n_items - self.n_items
        if n_new < 0:
            raise ValueError("UPDATE needs the model's item index space or a larger one")
        if self.B is not None:
            B = np.zeros((interactions.n_items, interactions.n_items), np.float32)
            B[:self.n_items, :self.n_items] = self.B
            new_cols = X_all[:, self.n_items:].tocsc()
            if n_new and new_cols.nnz:
                # b_j = P Xᵀ x_j, P = (I - B) diag(P_diag) over the trained items; Xᵀ x_j = co-counts C[:, j]
                DC = (X_all[:, :self.n_items].T @ new_cols).toarray() * self.P_diag[:, None]
                B[:self.n_items, self.n_items:] = (DC - self.B @ DC).astype(np.float32)
            out = EASEModel(interactions.n_items, pop, self.l2, B=B, P_diag=np.r_[self.P_diag, np.zeros(n_new)])
        else:
            # dual: X gains the new columns over the trained users (same rows), M is kept
            add = X_all[self.user_rows][:, self.n_items:].astype(np.float64).tocsr()
            X = sp.hstack([self.X, add]).tocsr()
            blk = add.T.tocsr()
            d_new = np.asarray(blk.multiply(blk @ self.M).sum(axis=1)).ravel() if n_new else np.zeros(0)
            out = EASEModel(interactions.n_items, pop, self.l2, X=X, M=self.M, d=np.r_[self.d, d_new],
                            user_rows=self.user_rows)
        out.temperature, out.repeat_rate, out.history_half_life = \
            self.temperature, self.repeat_rate, self.history_half_life
        return out

    def affinity_many(self, histories: sp.csr_matrix) -> np.ndarray:
        """``a = H B`` for history rows H (CSR float32 (n, n_items)) → float64[n, n_items] (primal: the
        product in float32, as B is stored)."""
        if self.B is not None:                              # float32 × float32 (a float64 H would copy B)
            return np.asarray(sp.csr_matrix(histories, dtype=np.float32) @ self.B, dtype=np.float64)
        H = sp.csr_matrix(histories, dtype=np.float64)
        # dual: H B = H - (H P) / diag(P),  H P = (H - ((H Xᵀ) M) X) / λ,  diag P = (1 - d)/λ
        HXt = (H @ self.X.T).toarray()
        HP_l = H.toarray() - np.asarray((self.X.T @ (HXt @ self.M).T).T)
        return H.toarray() - HP_l / (1.0 - self.d)[None, :]


def _binary_rows(interactions: Interactions, X_all: sp.csr_matrix | None = None
                 ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """``(X, user_rows, pop)``: the binary user × item CSR (float32) of the users with events (users without
    any add nothing), their user indices int64[U], and each item's distinct users float64[I].
    ``X_all`` = ``interactions.to_csr(binary=True)`` when the caller has it already."""
    X = interactions.to_csr(binary=True) if X_all is None else X_all
    user_rows = np.flatnonzero(np.diff(X.indptr) > 0)
    if len(user_rows) < X.shape[0]:
        X = X[user_rows]
    pop = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
    return X, user_rows, pop


def _repeat_rate(n_events: int, n_pairs: int, n_users: int) -> float:
    """:func:`~.base.measure_repeat_rate` from counts the fit has at hand (the binary CSR's stored entries are
    the distinct (user, item) pairs, its non-empty rows the users), without its sort of every event:
    ``(events − pairs) / (events − users)``, 0.0 when no user has two events."""
    return float((n_events - n_pairs) / (n_events - n_users)) if n_events > n_users else 0.0


#: Cost model of one user's row in ``XᵀX`` (measured on the 2-core benchmark machine, one core each): scipy's
#: sparse product spends about this many seconds per co-occurring pair (n² for a user with n items) ...
_SPARSE_PAIR_S = 6e-9
#: ... and a dense float32 ``DᵀD`` (BLAS syrk) this many per cell of the I × I result, whatever n is.
_DENSE_CELL_S = 1.1e-11
#: Dense rows multiplied at once (bounds the dense block: 2048 × I float32).
_DENSE_ROWS = 2048


def _gram(X: sp.csr_matrix, l2: float) -> np.ndarray:
    """``XᵀX + λI`` as a dense float32 (I, I) array (co-occurrence counts plus the ridge) for a binary CSR X.

    The heaviest users' rows, those the cost model above makes cheaper dense, are multiplied as dense
    float32 blocks by numpy's BLAS on a worker thread (it releases the GIL) while scipy's sparse product
    (single-threaded, GIL held) takes the other rows on the calling thread; with a CPU to spare
    (:func:`_spare_cpu`) the split balances the two threads, otherwise it minimises their sum. BLAS stays on
    one thread meanwhile (its threads would oversubscribe the cores). Counts are exact in float32 (below
    2²⁴), so G does not depend on the split or the number of CPUs.
    """
    n_u, n_i = X.shape
    heavy = _dense_rows(np.diff(X.indptr), n_i, _spare_cpu())
    with _one_blas_thread(), ThreadPoolExecutor(1) as pool:
        dense = pool.submit(_dense_gram, X[heavy], n_i) if len(heavy) else None
        light = np.ones(n_u, bool)
        light[heavy] = False
        X_l = X[light] if len(heavy) else X
        G = (X_l.T.tocsr() @ X_l).toarray()
        if dense is not None:
            G += dense.result()
    G[np.diag_indices_from(G)] += l2
    return G


def _spare_cpu() -> bool:
    """Whether a second thread would get a CPU of its own: two or more usable CPUs and a 1-minute load
    average (this process included) below their number minus one half. On the 2-core benchmark machine at
    load 4-6 the balanced split lost 0.3 s to waiting for the worker. Only the work split depends on it."""
    n = _threads()
    try:
        load = os.getloadavg()[0]
    except OSError:                                         # not available on this platform
        load = 0.0
    return n >= 2 and load < n - 0.5


def _dense_rows(n: np.ndarray, n_items: int, parallel: bool) -> np.ndarray:
    """Rows (int64, heaviest first) of ``XᵀX`` to compute dense, from the row lengths ``n`` (cost model above):
    the k heaviest, k minimising ``max(dense, sparse)`` seconds when the two run ``parallel``, else their sum."""
    order = np.argsort(-n, kind="stable")
    sparse_rest = np.r_[np.cumsum((n[order].astype(np.float64) ** 2)[::-1])[::-1], 0.0] * _SPARSE_PAIR_S
    dense = np.arange(len(n) + 1) * float(n_items) ** 2 * _DENSE_CELL_S
    cost = np.maximum(dense, sparse_rest) if parallel else dense + sparse_rest
    return order[:int(np.argmin(cost))]


def _dense_gram(X: sp.csr_matrix, n_items: int) -> np.ndarray:
    """``XᵀX`` float32 (I, I) of a CSR by dense blocks of :data:`_DENSE_ROWS` rows (numpy uses syrk for DᵀD)."""
    G = np.zeros((n_items, n_items), np.float32)
    for s in range(0, X.shape[0], _DENSE_ROWS):
        D = X[s:s + _DENSE_ROWS].toarray()
        G += D.T @ D
    return G


def _symmetrize_upper(P: np.ndarray, step: int = 512) -> np.ndarray:
    """Copy the upper triangle of the square C-ordered ``P`` onto its lower triangle, in place, in row blocks of
    ``step`` (``np.tril(P) + np.tril(P, -1).T`` took three full-size passes and two copies). Returns P."""
    n = len(P)
    for s in range(0, n, step):
        e = min(n, s + step)
        blk = P[s:e, s:e]
        il = np.tril_indices(e - s, -1)
        blk[il] = blk.T[il]
        P[e:, s:e] = P[s:e, e:].T
    return P


def _spd_inverse(G: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite float32 matrix by ``spotrf`` + ``spotri`` (full, symmetric).

    ``G`` (C-ordered) is overwritten and returned holding the inverse (LAPACK works in place on the
    Fortran view ``G.T``, the same matrix, so no 64 MB copy for I = 4000). Raises numpy.linalg.LinAlgError
    when G is not positive definite.
    """
    c, info = sla.lapack.spotrf(G.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"Gram matrix not positive definite (potrf info {info})")
    P, info = sla.lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed (info {info})")
    return _symmetrize_upper(P.T)                           # lower triangle of the Fortran P = upper of P.T
