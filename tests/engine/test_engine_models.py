import numpy as np
import pytest

from localpersonalize.engine import (EASEModel, IALSModel, PopularityModel, SimsModel,
                                     histories_to_csr, measure_repeat_rate, recency_weights, top_k)

FITTERS = {
    "ease": lambda x: EASEModel.fit(x),
    "ease_primal": lambda x: EASEModel.fit(x, solver="primal"),
    "ials": lambda x: IALSModel.fit(x, factors=16, iterations=10, reg=5.0, seed=7),
    "sims": lambda x: SimsModel.fit(x, min_cointeraction_count=1),
}
LEARNED = list(FITTERS)


@pytest.mark.parametrize("name", LEARNED)
def test_planted_groups_top_items_come_from_own_group(two_groups, name):
    model = FITTERS[name](two_groups)
    for u in (0, 5, 29, 30, 45, 59):
        hist = two_groups.history(u)
        items, scores = model.recommend(hist, 10, exclude=hist)
        own = (items < 50) if u < 30 else (items >= 50)
        assert len(items) == 10 and own.all(), (u, items)
        assert not np.isin(items, hist).any()
        assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("name", LEARNED + ["popularity"])
def test_scores_are_catalogue_softmax(two_groups, name):
    model = PopularityModel.fit(two_groups) if name == "popularity" else FITTERS[name](two_groups)
    hist = two_groups.history(3)
    items, scores = model.recommend(hist, model.n_items)
    assert scores.sum() == pytest.approx(1.0)
    assert len(np.unique(items)) == len(items)
    # excluded items disappear from the list but the remaining scores are unchanged
    ex_items, ex_scores = model.recommend(hist, 5, exclude=items[:2])
    assert ex_items.tolist() == items[2:7].tolist()
    assert np.allclose(ex_scores, scores[2:7])


@pytest.mark.parametrize("name", LEARNED)
def test_cold_start_is_popularity(two_groups, name):
    model = FITTERS[name](two_groups)
    pop = PopularityModel.fit(two_groups)
    items, scores = model.recommend(np.array([], np.int32), 10)
    p_items, p_scores = pop.recommend([], 10)
    assert items.tolist() == p_items.tolist()
    assert np.allclose(scores, p_scores)
    counts = np.asarray(two_groups.to_csr().sum(axis=0)).ravel()
    assert np.allclose(scores, counts[items] / counts.sum())


@pytest.mark.parametrize("name", LEARNED)
def test_deterministic(two_groups, name):
    a, b = FITTERS[name](two_groups), FITTERS[name](two_groups)
    h = two_groups.history(40)
    ia, sa = a.recommend(h, 20)
    ib, sb = b.recommend(h, 20)
    assert ia.tolist() == ib.tolist() and np.array_equal(sa, sb)


def test_ials_seed_changes_factors_but_not_quality(two_groups):
    a = IALSModel.fit(two_groups, factors=8, iterations=5, seed=1)
    b = IALSModel.fit(two_groups, factors=8, iterations=5, seed=2)
    assert not np.array_equal(a.item_factors, b.item_factors)
    assert a.item_factors.shape == (100, 8) and a.item_factors.dtype == np.float32


@pytest.mark.parametrize("name", LEARNED)
def test_recommend_many_matches_recommend(two_groups, name):
    model = FITTERS[name](two_groups)
    model.history_half_life = 5.0
    hists = [two_groups.history(u) for u in (0, 31, 7)] + [np.array([], np.int32)]
    items, scores = model.recommend_many(model.histories_csr(hists), 8, exclude_seen=True)
    assert items.shape == (4, 8) and items.dtype == np.int32
    for r, h in enumerate(hists):
        i1, s1 = model.recommend(h, 8, exclude=h)
        assert items[r].tolist() == i1.tolist()
        assert np.allclose(scores[r], s1)


def test_ease_primal_and_dual_agree(two_groups):
    a = EASEModel.fit(two_groups, solver="primal")
    b = EASEModel.fit(two_groups, solver="dual")
    H = histories_to_csr([two_groups.history(u) for u in range(0, 60, 7)], 100)
    assert np.allclose(a.affinity_many(H), b.affinity_many(H), atol=1e-5)


def test_personalized_ranking_score_softmax_over_input_items(two_groups):
    model = EASEModel.fit(two_groups)
    hist = two_groups.history(2)
    a, b = np.setdiff1d(np.arange(50), hist)[:2]          # own-group items the user has not seen
    s = model.score(hist, np.array([60, a, b, a]))
    assert s[1] == s[3]
    assert s[[0, 1, 2]].sum() == pytest.approx(1.0)
    assert s[1] > s[0] and s[2] > s[0]       # own-group items rank above the other group's


def test_untrained_items_score_zero_and_are_never_recommended(two_groups_factory):
    x = two_groups_factory(n_items=100)
    keep = x.item_idx != 7
    x7 = x.subset(keep)
    model = EASEModel.fit(x7)
    s = model.score(x7.history(0), np.array([7, 1, 2]))
    assert s[0] == 0.0 and s[1:].sum() == pytest.approx(1.0)
    items, _ = model.recommend(x7.history(0), 100)
    assert 7 not in items


def test_similar_items(two_groups):
    for model in (SimsModel.fit(two_groups, min_cointeraction_count=1), EASEModel.fit(two_groups)):
        items, _ = model.similar_items(3, 5)
        assert len(items) == 5 and 3 not in items and (items < 50).all()


def test_sims_unknown_or_sparse_item_falls_back_to_popular(two_groups):
    model = SimsModel.fit(two_groups, min_cointeraction_count=10_000)   # no pair survives
    items, sims = model.similar_items(3, 5)
    p_items, _ = PopularityModel.fit(two_groups).recommend([], 6, exclude=[3])
    assert items.tolist() == p_items[:5].tolist() and (sims == 0).all()


def test_sims_popularity_discount_factor_is_cosine_at_half(two_groups):
    m = SimsModel.fit(two_groups, popularity_discount_factor=0.5, min_cointeraction_count=0)
    X = two_groups.to_csr().toarray()
    C = X.T @ X
    n = np.diag(C)
    i, j = 0, 1
    assert m.similarity[i, j] == pytest.approx(C[i, j] / np.sqrt(n[i] * n[j]), rel=1e-5)


def test_top_k_ties_broken_by_index_and_padding():
    idx, vals = top_k(np.array([[1.0, 3.0, 3.0, -np.inf, 2.0]]), 5)
    assert idx.tolist() == [[1, 2, 4, 0, -1]]
    assert np.isnan(vals[0, 4])


def test_recency_weights_half_life():
    w = recency_weights(3, 1.0)
    assert w.tolist() == [0.25, 0.5, 1.0]
    assert recency_weights(3, None).tolist() == [1, 1, 1]
    m = histories_to_csr([np.array([4, 2, 4])], 6, half_life=1.0)   # item 4 keeps its newest weight
    assert m.toarray()[0].tolist() == [0, 0, 0.5, 0, 1.0, 0]


def test_ials_factors_do_not_depend_on_chunks_tasks_or_threads(two_groups, monkeypatch):
    import localpersonalize.engine.ials as ials
    a = IALSModel.fit(two_groups, factors=8, iterations=3, seed=1)
    monkeypatch.setattr(ials, "_CHUNK", 7)              # many gather chunks
    monkeypatch.setattr(ials, "_TASK_PAIRS", 50)        # many row tasks on the pool
    b = IALSModel.fit(two_groups, factors=8, iterations=3, seed=1)
    monkeypatch.setattr(ials, "_threads", lambda: 1)
    c = IALSModel.fit(two_groups, factors=8, iterations=3, seed=1)
    assert np.allclose(a.item_factors, b.item_factors, atol=1e-5)
    assert np.array_equal(b.item_factors, c.item_factors)


def test_ials_batched_fold_in_equals_one_row_fold_in(two_groups, monkeypatch):
    import localpersonalize.engine.ials as ials
    m = IALSModel.fit(two_groups, factors=8, iterations=5, seed=0)
    hs = [two_groups.history(u) for u in range(20)] + [np.array([], np.int32), np.array([3]), np.array([3, 3, 5])]
    H = histories_to_csr(hs, 100, half_life=5.0)
    many = m.fold_in(H)
    one = np.vstack([m.fold_in(H[r]) for r in range(H.shape[0])])
    assert np.array_equal(many, one) and not many[20].any()
    monkeypatch.setattr(ials, "_SOLVE_SLOTS", 3)        # one row per stacked solve
    assert np.allclose(m.fold_in(H), many, rtol=1e-10, atol=1e-12)


def test_ials_fold_in_solves_the_als_normal_equations(two_groups):
    m = IALSModel.fit(two_groups, factors=8, iterations=5, seed=0)
    h = two_groups.history(4)
    x = m.fold_in(histories_to_csr([h], 100))[0]
    Y = m.item_factors.astype(np.float64)
    Yh = Y[np.unique(h)]
    A = Y.T @ Y + m.reg * np.eye(8) + m.alpha * Yh.T @ Yh
    b = (1 + m.alpha) * Yh.sum(axis=0)
    assert np.allclose(A @ x, b, atol=1e-6)
    # and it agrees with the training-time CG solution (stale by one item half-step) in direction
    u = m.user_factors[4]
    assert x @ u / np.linalg.norm(x) / np.linalg.norm(u) > 0.9


def test_ials_short_history_fold_in_solves_the_normal_equations_too(two_groups):
    """Histories shorter than k take the Woodbury path (L×L solves); the answer is the same k×k solution."""
    m = IALSModel.fit(two_groups, factors=32, iterations=3, seed=0)
    h = two_groups.history(4)[:6]
    H = histories_to_csr([h], 100, half_life=3.0)
    x = m.fold_in(H)[0]
    Y = m.item_factors.astype(np.float64)
    idx, w = H.indices, H.data.astype(np.float64)
    A = Y.T @ Y + m.reg * np.eye(32) + (Y[idx] * (m.alpha * w)[:, None]).T @ Y[idx]
    assert np.allclose(A @ x, Y[idx].T @ (1 + m.alpha * w), atol=1e-9)


def _with_repeats(x):
    """``x`` with every third event repeated a minute later (so the repeat rate is not 0)."""
    dup = np.arange(0, len(x), 3)
    return type(x)(np.r_[x.user_idx, x.user_idx[dup]], np.r_[x.item_idx, x.item_idx[dup]],
                   np.r_[x.timestamp, x.timestamp[dup] + 60], x.n_users, x.n_items)


def test_ease_probe_from_the_full_inverse_equals_a_direct_fit(two_groups_factory):
    from localpersonalize.engine.metrics import split_holdout
    x = _with_repeats(two_groups_factory(n_users=300, n_items=80, per_user=12))   # primal; 30 test users ≤ 80/4
    x = x.subset(x.item_idx != 79)                                              # an untrained item
    split = split_holdout(x, seed=5)
    only_test = np.setdiff1d(x.item_idx, split.train.item_idx)                 # items no training user has
    model, probe = EASEModel.fit_with_probe(x, split.train, split.test_users, l2=10.0)
    direct_model, direct_probe = EASEModel.fit(x, l2=10.0), EASEModel.fit(split.train, l2=10.0)
    assert np.array_equal(model.B, direct_model.B)
    assert np.allclose(probe.B, direct_probe.B, atol=1e-5) and np.abs(probe.B).max() > 0.05
    assert np.allclose(probe.P_diag, direct_probe.P_diag, rtol=1e-5)
    assert np.array_equal(probe.popularity, direct_probe.popularity)
    assert np.array_equal(probe.trained, direct_probe.trained) and not probe.trained[79]
    assert probe.repeat_rate == direct_probe.repeat_rate == measure_repeat_rate(split.train) > 0
    assert model.repeat_rate == measure_repeat_rate(x)
    assert len(only_test) == 0 or not probe.trained[only_test].any()


def test_ease_probe_falls_back_to_two_fits_in_the_dual_form(two_groups):
    from localpersonalize.engine.metrics import split_holdout
    split = split_holdout(two_groups, seed=1)                                   # 60 users < 100 items: dual
    model, probe = EASEModel.fit_with_probe(two_groups, split.train, split.test_users, l2=10.0)
    assert probe.B is None and np.array_equal(probe.M, EASEModel.fit(split.train, l2=10.0).M)
    assert probe.repeat_rate == measure_repeat_rate(split.train)
    assert np.array_equal(model.M, EASEModel.fit(two_groups, l2=10.0).M)


def test_ease_gram_split_between_dense_and_sparse_rows_is_exact(two_groups_factory):
    from localpersonalize.engine.ease import _dense_rows, _gram
    X = _with_repeats(two_groups_factory(n_users=300, n_items=80, per_user=12)).to_csr()
    n = np.diff(X.indptr)
    for parallel in (True, False):
        heavy = _dense_rows(n, 80, parallel)
        assert (0 < len(heavy) < 300) == parallel                     # 80² cells: one thread takes all dense
    G = _gram(X, 10.0)
    assert np.array_equal(G, (X.T @ X).toarray() + 10.0 * np.eye(80, dtype=np.float32))
