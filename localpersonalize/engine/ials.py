"""Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) with batched conjugate gradient, float32.

Loss: ``Σ_{u,i} c_ui (p_ui − x_u·y_i)² + reg (‖X‖² + ‖Y‖²)`` over **all**
(user, item) cells, with preference ``p_ui = 1`` for observed pairs (0
otherwise) and confidence ``c_ui = 1 + alpha · r_ui`` (1 for unobserved),
``r`` the interaction count (or binarised, see ``fit``).

Each half-step solves, for every user at once,
``(YᵀY + reg·I + Yᵀ (C_u − I) Y) x_u = Yᵀ C_u p_u`` by ``cg_steps`` steps of
conjugate gradient warm-started at the previous factors (Takács et al. 2011;
the scheme of the `implicit` library). The mat-vec needs the dots
``x_u·y_i`` only at stored pairs, so one half-step costs
O(nnz·k·cg_steps + U·k²) (dense-block regime: O(U·I·k·cg_steps) BLAS
flops, faster in practice above 1 % density). No Python loop over users.

Serving is by **fold-in**: for a history h with weights w, the user vector
is the exact solution of the same normal equations (k×k solve), so a known
user's vector is reproduced from their training history and new users /
real-time events need no retraining (spec 70-engine-notes §7.3).
Defaults (k=64, alpha=5, reg=1, 15 iterations) are those measured in spec 70 §4.2.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import Recommender
from .interactions import Interactions

__all__ = ["IALSModel"]

# Above this density the per-pair dots are taken from dense BLAS blocks (faster
# than gathering nnz×k rows, spec 70-engine-notes §3.4); below it, by gathering.
_DENSE_BLOCK_DENSITY = 0.01
_BLOCK_CELLS = 2_000_000
# Stored pairs gathered at once in the sparse regime (2M × k=64 float32 = 512 MB per gathered side).
_GATHER_CHUNK = 2_000_000


def _cg_half_step(X, Y, C, alpha, reg, cg_steps):
    """Update X (float32[n, k]) in place for fixed Y (float32[m, k]).

    ``C`` is CSR (n, m) with data = r (the raw confidence increments);
    ``alpha`` scales them. Solves (YᵀY + reg I + Yᵀ diag(alpha r_u) Y) x_u =
    Σ_i (1 + alpha r_ui) y_i with warm-started batched CG.
    """
    G = Y.T @ Y
    G[np.diag_indices_from(G)] += reg
    rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
    cols = C.indices
    ar = (alpha * C.data).astype(np.float32)
    b = sp.csr_matrix(((1.0 + ar).astype(np.float32), cols, C.indptr), shape=C.shape) @ Y
    n, m = C.shape
    dense = C.nnz >= _DENSE_BLOCK_DENSITY * n * m
    small = not dense and C.nnz <= _GATHER_CHUNK
    Yc = Y[cols] if small else None                    # (nnz, k) gathered once per half-step when small
    step = max(1, _BLOCK_CELLS // max(1, m))

    def sddmm(P):
        """d[p] = P[rows[p]] · Y[cols[p]] for every stored pair p → float32[nnz]."""
        if small:
            return np.einsum("ij,ij->i", P[rows], Yc)
        if not dense:
            # sparse regime, large: gather in chunks so memory stays O(chunk · k), not O(nnz · k)
            d = np.empty(C.nnz, np.float32)
            for a in range(0, C.nnz, _GATHER_CHUNK):
                b = min(C.nnz, a + _GATHER_CHUNK)
                d[a:b] = np.einsum("ij,ij->i", P[rows[a:b]], Y[cols[a:b]])
            return d
        # dense regime: BLAS blocks P[s:e] @ Yᵀ and pick the stored cells (spec 70 §3.4)
        d = np.empty(C.nnz, np.float32)
        for s in range(0, n, step):
            e = min(n, s + step)
            a, b = C.indptr[s], C.indptr[e]
            d[a:b] = (P[s:e] @ Y.T)[rows[a:b] - s, cols[a:b]]
        return d

    def matvec(P):
        d = sddmm(P) * ar
        return P @ G + sp.csr_matrix((d, cols, C.indptr), shape=C.shape) @ Y

    R = b - matvec(X)
    Pd = R.copy()
    rs_old = np.einsum("ij,ij->i", R, R)
    for _ in range(cg_steps):
        AP = matvec(Pd)
        denom = np.einsum("ij,ij->i", Pd, AP)
        a = np.divide(rs_old, denom, out=np.zeros_like(rs_old), where=denom > 0)
        X += a[:, None] * Pd
        R -= a[:, None] * AP
        rs_new = np.einsum("ij,ij->i", R, R)
        beta = np.divide(rs_new, rs_old, out=np.zeros_like(rs_new), where=rs_old > 0)
        Pd = R + beta[:, None] * Pd
        rs_old = rs_new


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
        for _ in range(iterations):
            _cg_half_step(X, Y, Cui, alpha, reg, cg_steps)
            _cg_half_step(Y, X, Ciu, alpha, reg, cg_steps)
        pop = np.asarray((Cui > 0).sum(axis=0)).ravel().astype(np.float64)
        return cls(interactions.n_items, pop, Y, X, alpha, reg).learn_repeat_rate(interactions)

    def fold_in(self, histories: sp.csr_matrix) -> np.ndarray:
        """User vectors float64[n, k] solving the ALS normal equations exactly for each row.

        Row values are the confidence increments r (1.0 for a plain event,
        smaller for older events under recency weighting).
        """
        return _exact_solve(self.item_factors, self._gram, histories, self.alpha)

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
        no float64 copy of the catalogue's factors per request)."""
        U = self.fold_in(histories).astype(np.float32)
        return (U @ self.item_factors.T).astype(np.float64)


def _exact_solve(F: np.ndarray, gram: np.ndarray, H: sp.csr_matrix, alpha: float) -> np.ndarray:
    """Exact ALS solutions float64[n, k], one per row of ``H`` (CSR (n, m), values = confidence increments r).

    ``F`` float32[m, k] are the fixed factors of the other side and ``gram = FᵀF + reg·I`` (float64
    [k, k]); row r solves ``(gram + α Σ_i r_i f_i f_iᵀ) x = Σ_i (1 + α r_i) f_i`` over its stored i.
    Empty rows give 0. One k×k solve per row (< 1 ms at k = 64).
    """
    H = sp.csr_matrix(H, dtype=np.float64)
    out = np.zeros((H.shape[0], F.shape[1]))
    for r in range(H.shape[0]):
        s, e = H.indptr[r], H.indptr[r + 1]
        if s == e:
            continue
        idx, w = H.indices[s:e], H.data[s:e]
        Fh = F[idx].astype(np.float64)              # only the history's rows (no catalogue-size copy)
        A = gram + (Fh * (alpha * w)[:, None]).T @ Fh
        out[r] = np.linalg.solve(A, Fh.T @ (1.0 + alpha * w))
    return out
