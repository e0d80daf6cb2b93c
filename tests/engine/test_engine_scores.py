"""Repeat-aware scoring (engine/base.py) and temperature calibration (engine/calibration.py)."""
import numpy as np
import pytest
import scipy.sparse as sp

from localpersonalize.engine import (EASEModel, IALSModel, Interactions, PopularityModel, Recommender,
                                     SimsModel, fit_temperature, from_arrays, measure_repeat_rate, train,
                                     train_calibrated)
from localpersonalize.engine.base import _rank, _seen_mask, group_log_scores, top_k
from localpersonalize.engine.metrics import HoldoutSplit, split_holdout

FITTERS = {
    "ease": lambda x: EASEModel.fit(x),
    "ials": lambda x: IALSModel.fit(x, factors=16, iterations=10, reg=5.0, seed=7),
    "sims": lambda x: SimsModel.fit(x, min_cointeraction_count=1),
}


def make_repeaters(n_users=60, n_items=100, distinct=5, repeats=20, seed=0):
    """Two planted groups as in conftest, but each user cycles ``repeats`` times over ``distinct`` items."""
    rng = np.random.default_rng(seed)
    half_u, half_i = n_users // 2, n_items // 2
    users, items = [], []
    for u in range(n_users):
        chosen = rng.choice(half_i, size=distinct, replace=False) + (0 if u < half_u else half_i)
        users += [u] * distinct * repeats
        items += list(np.tile(chosen, repeats))
    ts = np.arange(len(users), dtype=np.int64) * 60 + 1_600_000_000
    return Interactions(np.array(users), np.array(items), ts, n_users, n_items)


# ------------------------------------------------------------------ repeat rate

def test_measure_repeat_rate_hand_example():
    # user 0: 1 2 1 3 1 → 2 repeats in 4 later events; user 1: one event; user 2: 4 4 → 1 repeat in 1
    x = from_arrays([0, 0, 0, 0, 0, 1, 2, 2], [1, 2, 1, 3, 1, 5, 4, 4])
    assert measure_repeat_rate(x) == pytest.approx(3 / 5)
    assert measure_repeat_rate(from_arrays([0, 1], [0, 0])) == 0.0        # nobody has a 2nd event
    assert measure_repeat_rate(make_repeaters()) == pytest.approx(95 / 99)  # 100 events, 5 distinct


@pytest.mark.parametrize("name", list(FITTERS))
def test_fit_learns_repeat_rate(two_groups, name):
    assert FITTERS[name](two_groups).repeat_rate == 0.0
    assert FITTERS[name](make_repeaters()).repeat_rate == pytest.approx(95 / 99)
    assert PopularityModel.fit(two_groups).repeat_rate is None   # same list for everyone


def test_group_log_scores_hand_example():
    with np.errstate(divide="ignore"):
        logits = np.log(np.array([[1.0, 2.0, 3.0, 0.0, 4.0]]))       # item 3 untrained (-inf)
    seen = np.array([[True, False, False, False, True]])
    lp, tail = group_log_scores(logits, seen, 0.25)
    assert np.allclose(np.exp(lp), [[0.25 / 5, 0.75 * 2 / 5, 0.75 * 3 / 5, 0.0, 0.25 * 4 / 5]])
    assert np.isneginf(tail).all()
    lp, tail = group_log_scores(logits, seen, 0.0)
    assert np.allclose(np.exp(lp), [[0.0, 0.4, 0.6, 0.0, 0.0]])
    assert np.allclose(np.exp(tail), [[0.2, 0.0, 0.0, 0.0, 0.8]])        # seen items ranked among themselves
    lp, _ = group_log_scores(logits, seen, None)                         # plain softmax
    assert np.allclose(np.exp(lp), [[0.1, 0.2, 0.3, 0.0, 0.4]])
    lp, _ = group_log_scores(logits, np.ones_like(seen), 0.0)            # unseen group empty → seen gets 1
    assert np.allclose(np.exp(lp), [[0.1, 0.2, 0.3, 0.0, 0.4]])


# -------------------------------------------------------------- no-repeat data

@pytest.mark.parametrize("name", list(FITTERS))
def test_no_repeat_data_never_recommends_history_while_unseen_items_remain(two_groups, name):
    model = FITTERS[name](two_groups)
    for u in (0, 17, 42):
        hist = two_groups.history(u)
        items, scores = model.recommend(hist, 10)                       # no exclude
        assert not np.isin(items, hist).any()
        items, scores = model.recommend(hist, 100)                      # whole catalogue
        seen = np.isin(items, hist)
        assert seen.sum() == len(hist) and seen[-len(hist):].all()      # history comes last...
        assert np.all(scores[seen] == 0.0) and np.all(scores[~seen] > 0)  # ...with score 0
        assert scores[~seen].sum() == pytest.approx(1.0)
        assert np.all(np.diff(scores) <= 0)


def test_history_fills_the_list_only_when_nothing_else_is_left(two_groups):
    model = EASEModel.fit(two_groups)
    hist = np.r_[np.arange(97), two_groups.history(0)]                  # all but 3 items seen
    left = np.setdiff1d(np.arange(100), hist)
    items, scores = model.recommend(hist, 12)
    assert sorted(items[:3].tolist()) == left.tolist() and scores[:3].sum() == pytest.approx(1.0)
    assert np.isin(items[3:], hist).all() and np.all(scores[3:] == 0.0)
    # the zero-score tail is ordered by the model's affinity among the seen items
    a = model.affinity_many(model.histories_csr([hist]))[0]
    assert np.all(np.diff(a[items[3:]]) <= 1e-12)
    # exclude still removes items, recommend_many agrees with recommend
    ex_items, ex_scores = model.recommend(hist, 10, exclude=items[3:5])
    assert ex_items.tolist() == np.r_[items[:3], items[5:12]].tolist()
    assert np.allclose(ex_scores, np.r_[scores[:3], scores[5:12]])
    many, many_s = model.recommend_many(model.histories_csr([hist]), 12, exclude_seen=False)
    assert many[0].tolist() == items.tolist() and np.allclose(many_s[0], scores)


def test_score_is_recommend_renormalised_over_the_input_list(two_groups):
    model = EASEModel.fit(two_groups)
    hist = two_groups.history(2)
    unseen = np.setdiff1d(np.arange(100), hist)
    items, p = model.recommend(hist, 100)
    cat = dict(zip(items.tolist(), p))
    lst = np.r_[unseen[:4], unseen[-3:], hist[:2]]
    s = model.score(hist, lst)
    expect = np.array([cat[i] for i in lst])
    assert np.allclose(s, expect / expect.sum())                        # history items score 0
    assert np.all(s[-2:] == 0.0) and s.sum() == pytest.approx(1.0)
    # a list of history items only: their within-group softmax (limit r → 0), still summing to 1
    a = model.affinity_many(model.histories_csr([hist]))[0]
    s = model.score(hist, hist[:4])
    e = np.exp((a[hist[:4]] - a[hist[:4]].max()) / model.temperature)
    assert np.allclose(s, e / e.sum())


def test_popularity_count_is_the_same_list_for_everyone(two_groups):
    model = PopularityModel.fit(two_groups)
    a, sa = model.recommend(two_groups.history(0), 10)
    b, sb = model.recommend(two_groups.history(40), 10)
    assert a.tolist() == b.tolist() and np.allclose(sa, sb)


# ---------------------------------------------------------------- repeat data

@pytest.mark.parametrize("name", ["ease", "ials"])
def test_heavy_repeat_data_recommends_history(name):
    x = make_repeaters()
    r = 95 / 99
    model = FITTERS[name](x)
    for u in (0, 31):
        hist = x.history(u)
        items, scores = model.recommend(hist, 100)
        seen = np.isin(items, hist)
        assert seen[:5].all()                                            # the 5 repeated items lead
        assert scores[seen].sum() == pytest.approx(r)                    # seen group holds mass r
        assert scores[~seen].sum() == pytest.approx(1 - r)
        assert scores.sum() <= 1.0 + 1e-12


def test_empty_history_ignores_repeat_rate():
    model = EASEModel.fit(make_repeaters())
    _, scores = model.recommend([], 100)
    assert scores.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- calibration

class _FixedAffinity(Recommender):
    """Affinity = history @ W for a fixed W: a model whose true temperature is known."""

    def __init__(self, W):
        super().__init__(W.shape[0], np.ones(W.shape[0]))
        self.W = W

    def affinity_many(self, histories):
        return np.asarray(sp.csr_matrix(histories, dtype=np.float64) @ self.W)


def test_fit_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(0)
    n_items, n_users, t_true = 40, 400, 0.5
    model = _FixedAffinity(rng.standard_normal((n_items, n_items)))
    hists = [rng.choice(n_items, size=3, replace=False) for _ in range(n_users)]
    a = model.affinity_many(model.histories_csr(hists)) / t_true
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    truth = [rng.choice(n_items, size=5, p=row).astype(np.int32) for row in p]   # repeats allowed
    split = HoldoutSplit(None, np.arange(n_users), model.histories_csr(hists), hists, [], truth)
    t_hat = fit_temperature(model, split)                      # repeat_rate None: plain softmax
    assert t_hat == pytest.approx(t_true, rel=0.08)
    model.temperature = 7.0                                    # a current temperature is ignored
    assert fit_temperature(model, split) == pytest.approx(t_hat)


def test_calibrated_scores_are_confident_and_keep_the_ranking(two_groups):
    model = train("aws-user-personalization", two_groups, {}, seed=0)
    assert 0.05 < model.temperature < 0.5
    hists = [two_groups.history(u) for u in range(60)]
    H = model.histories_csr(hists)
    items, scores = model.recommend_many(H, 100, exclude_seen=False)
    assert np.median(scores[:, 0]) > 5 / model.n_items                  # far from flat 1/n
    assert np.allclose(np.nansum(scores, axis=1), 1.0)
    own = np.where(np.arange(60)[:, None] < 30, items < 50, items >= 50)
    calibrated_own = (scores * own).sum(axis=1).mean()
    t = model.temperature
    model.temperature = 1.0
    items1, scores1 = model.recommend_many(H, 100, exclude_seen=False)
    assert np.array_equal(items, items1)                               # same order at every T
    assert calibrated_own > (scores1 * own).sum(axis=1).mean() + 0.3    # ~0.77 vs ~0.38 at T=1
    model.temperature = t


def test_calibration_is_deterministic_under_the_seed(two_groups):
    a = train("aws-user-personalization", two_groups, {}, seed=3)
    b = train("aws-user-personalization", two_groups, {}, seed=3)
    c = train("aws-user-personalization", two_groups, {}, seed=4)
    assert a.temperature == b.temperature
    assert c.temperature != a.temperature                               # another holdout
    assert train("aws-user-personalization", two_groups, {}, seed=3, algorithm="ials").temperature < 1.0


def test_calibration_uses_the_probe_not_the_final_model(two_groups):
    calls = []

    def fit(data):
        calls.append(len(data))
        return EASEModel.fit(data)

    model = train_calibrated(fit, two_groups, seed=1)
    split = split_holdout(two_groups, 1)
    assert calls == [len(two_groups), len(split.train)]
    assert model.temperature == fit_temperature(EASEModel.fit(split.train), split, 1)


def test_calibration_falls_back_to_one_without_a_holdout():
    x = from_arrays(np.arange(30), np.arange(30) % 5)                  # nobody has 2 events
    assert train_calibrated(EASEModel.fit, x).temperature == 1.0


def test_truth_events_are_the_newest_events_with_repeats():
    x = make_repeaters(n_users=40)
    s = split_holdout(x, seed=2)
    for u, h, e in zip(s.test_users, s.history_lists, s.truth_events):
        assert np.r_[h, e].tolist() == x.history(u).tolist()
        assert len(e) == 10                                              # 10 % of 100 events


def test_movielens_small_user_1(ml_small):
    """The problems seen through `localpersonalize demo`: repeats in the top 10 and flat scores."""
    model = train("aws-user-personalization", ml_small, {}, seed=0)
    hist = ml_small.history(0)
    items, scores = model.recommend(hist, 10)
    assert model.repeat_rate == 0.0 and len(hist) == 232
    assert not np.isin(items, hist).any()
    assert scores[0] > 10 / model.n_items                               # was ≈ 1/9724


@pytest.mark.parametrize("repeat_rate", [None, 0.0, 0.3, 1.0])
def test_recommend_many_excluding_history_equals_the_full_group_rule(two_groups, repeat_rate):
    for m in (EASEModel.fit(two_groups, l2=10.0), IALSModel.fit(two_groups, factors=8, iterations=3)):
        m.repeat_rate = repeat_rate
        H = m.histories_csr([two_groups.history(u) for u in range(60)] + [np.array([], np.int64), np.arange(100)])
        items, scores = m.recommend_many(H, 30, exclude_seen=True)
        log_p, tail = m.log_scores_many(H)
        rows = np.repeat(np.arange(H.shape[0]), np.diff(H.indptr))
        log_p[rows, H.indices] = tail[rows, H.indices] = -np.inf
        want_items, want_scores = _rank(log_p, tail, 30)
        assert np.array_equal(items, want_items) and np.array_equal(scores, want_scores, equal_nan=True)


@pytest.mark.parametrize("repeat_rate", [None, 0.0, 0.3, 1.0])
def test_rank_log_scores_equals_the_full_group_rule_with_an_allowed_mask(two_groups, repeat_rate):
    rng = np.random.default_rng(3)
    for m in (EASEModel.fit(two_groups, l2=10.0), IALSModel.fit(two_groups, factors=8, iterations=3)):
        m.repeat_rate = repeat_rate
        H = m.histories_csr([two_groups.history(u) for u in range(60)] + [np.array([], np.int64), np.arange(100)])
        for allowed in (None, rng.random((H.shape[0], 100)) < 0.7, rng.random((1, 100)) < 0.5):
            items, scores, log_p = m.rank_log_scores(H, 30, allowed)
            want_p, tail = group_log_scores(m.logits_many(H), _seen_mask(H), repeat_rate)   # the dense rule
            same_p, _ = m.log_scores_many(H)
            if allowed is not None:
                for x in (want_p, tail, same_p):
                    np.copyto(x, -np.inf, where=~allowed)
            want_items, want_scores = _rank(want_p, tail, 30)
            assert np.array_equal(items, want_items)
            np.testing.assert_allclose(scores, want_scores, rtol=1e-12, atol=0)
            np.testing.assert_allclose(log_p, want_p, rtol=1e-12, atol=0)
            assert np.array_equal(log_p, same_p)


def test_top_k_of_wide_rows_keeps_the_lowest_indices_among_ties():
    rng = np.random.default_rng(0)
    y = np.round(rng.standard_normal((50, 5000)), 1)
    y[rng.random(y.shape) < 0.3] = -np.inf
    y[7] = -np.inf
    y[8, 20:] = -np.inf
    idx, vals = top_k(y, 25)
    for r in range(50):
        fin = np.flatnonzero(np.isfinite(y[r]))
        want = fin[np.lexsort((fin, -y[r, fin]))][:25]
        assert idx[r, :len(want)].tolist() == want.tolist() and (idx[r, len(want):] == -1).all()
        assert np.array_equal(vals[r, :len(want)], y[r, want]) and np.isnan(vals[r, len(want):]).all()
        assert top_k(y[r:r + 1], 25)[0][0].tolist() == idx[r].tolist()   # a row never depends on the block


def test_fit_temperature_is_the_maximum_likelihood_temperature():
    x = make_repeaters(n_users=200, repeats=3)                # repeat rate 2/3: both groups carry mass
    split = split_holdout(x, seed=0)
    model = EASEModel.fit(split.train, l2=10.0)
    t = fit_temperature(model, split)

    def nll(temperature):                                     # straight from the serving rule
        model.temperature = temperature
        log_p, _ = model.log_scores_many(model.histories_csr(split.history_lists))
        return -np.mean(np.concatenate([lp[e] for lp, e in zip(log_p, split.truth_events)]))

    assert 0 < t < 1
    assert nll(t) < nll(t * 1.01) and nll(t) < nll(t / 1.01)
    assert nll(t) <= min(nll(t * f) for f in np.linspace(0.5, 2.0, 31)) + 1e-12


def test_recipe_calibrates_on_a_probe_equal_to_a_fit_on_the_training_users(two_groups_factory):
    x = two_groups_factory(n_users=300, n_items=80, per_user=12)   # EASE primal: probe by the Woodbury downdate
    split = split_holdout(x, seed=2)
    probe = EASEModel.fit(split.train, l2=100.0)
    probe.history_half_life = 50.0
    model = train("aws-user-personalization", x, {}, seed=2)
    assert isinstance(model, EASEModel) and model.B is not None
    assert model.temperature == pytest.approx(fit_temperature(probe, split, 2), rel=1e-4)


def test_histories_csr_of_a_block_weighs_each_history_by_its_own_recency():
    from localpersonalize.engine import histories_to_csr, recency_weights
    hs = [np.array([3, 1, 3, 7]), np.array([], np.int64), np.array([5]), np.array([2, 9, 4])]
    H = histories_to_csr(hs, 10, half_life=2.0)
    for r, h in enumerate(hs):
        w = dict(zip(h.tolist(), recency_weights(len(h), 2.0).tolist()))   # an item keeps its newest weight
        assert dict(zip(H[r].indices.tolist(), H[r].data.tolist())) == w
