import math

import numpy as np
import pytest

from localpersonalize.engine import PopularityModel, from_arrays
from localpersonalize.engine.metrics import (METRIC_KEYS, evaluate, mean_reciprocal_rank,
                                             ranking_metrics, split_holdout, user_ranking_metrics)


def test_guide_worked_example_positions_2_and_5():
    # recommended list of 5; relevant items sit at positions 2 and 5
    m = user_ranking_metrics([10, 20, 30, 40, 50], [20, 50, 99], k=5)
    assert m["reciprocal_rank"] == 0.5
    assert m["precision"] == pytest.approx(0.4)
    # the guide's example has 2 relevant items → ideal DCG over 2 positions
    m2 = user_ranking_metrics([10, 20, 30, 40, 50], [20, 50], k=5)
    assert round(m2["ndcg"], 4) == 0.6241
    expected = (1 / math.log(3) + 1 / math.log(6)) / (1 / math.log(2) + 1 / math.log(3))
    assert m2["ndcg"] == pytest.approx(expected)


def test_guide_mrr_example():
    assert round(mean_reciprocal_rank([4, 2, 6]), 4) == 0.3056
    assert mean_reciprocal_rank([None, 2]) == 0.25


def test_ideal_dcg_uses_min_relevant_and_k():
    # 30 relevant items, perfect top-25 list → nDCG@25 = 1
    recs = np.arange(25)[None, :]
    m = ranking_metrics(recs, [np.arange(30)], n_catalogue_items=100)
    assert m["normalized_discounted_cumulative_gain_at_25"] == pytest.approx(1.0)
    assert m["precision_at_25"] == 1.0 and m["mean_reciprocal_rank_at_25"] == 1.0
    assert m["coverage"] == 0.25
    assert tuple(m) == METRIC_KEYS


def test_users_without_truth_skipped_and_padding_ignored():
    recs = np.array([[1, -1, -1] + [-1] * 22, [5, 6, 7] + [-1] * 22])
    m = ranking_metrics(recs, [np.array([], np.int32), np.array([6])], n_catalogue_items=10)
    assert m["mean_reciprocal_rank_at_25"] == 0.5
    assert m["precision_at_5"] == pytest.approx(0.2)
    assert m["coverage"] == pytest.approx(0.4)


def test_batch_metrics_are_the_means_of_the_per_user_metrics():
    rng = np.random.default_rng(4)
    recs = np.array([rng.permutation(60)[:25] for _ in range(40)])
    recs[rng.random(recs.shape) < 0.1] = -1                         # padding slots never hit
    truth = [rng.choice(60, size=rng.integers(0, 30)) for _ in range(40)]   # repeats, some empty
    m = ranking_metrics(recs, truth, n_catalogue_items=60)
    rows = [r for r in range(40) if len(truth[r])]
    for k in (5, 10, 25):
        per = [user_ranking_metrics(recs[r], truth[r], k) for r in rows]
        assert m[f"normalized_discounted_cumulative_gain_at_{k}"] == pytest.approx(np.mean([p["ndcg"] for p in per]))
        assert m[f"precision_at_{k}"] == pytest.approx(np.mean([p["precision"] for p in per]))
    per = [user_ranking_metrics(recs[r], truth[r], 25) for r in rows]
    assert m["mean_reciprocal_rank_at_25"] == pytest.approx(np.mean([p["reciprocal_rank"] for p in per]))

def _data(n_users=200, per=10, n_items=50, seed=0):
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(n_users), per)
    u = np.r_[u, 999 % n_users]  # one user gets an extra event
    i = rng.integers(0, n_items, len(u))
    t = rng.integers(0, 10_000, len(u))
    # plus 5 users with a single event: never test users
    u = np.r_[u, np.arange(n_users, n_users + 5)]
    i = np.r_[i, np.zeros(5, int)]
    t = np.r_[t, np.zeros(5, int)]
    return from_arrays(u, i, t, n_users=n_users + 5, n_items=n_items)


def test_split_is_user_level_90_10_and_chronological():
    x = _data()
    s = split_holdout(x, seed=3)
    assert len(s.test_users) == 21  # round half up: 0.1 * 205 users with events = 20.5
    assert not np.isin(np.arange(200, 205), s.test_users).any()      # <2 events stay in train
    assert not np.isin(s.train.user_idx, s.test_users).any()         # test users fully held out
    n_truth = sum(len(x.user_idx[x.user_idx == u]) - len(h) for u, h in zip(s.test_users, s.history_lists))
    assert len(s.train) + sum(len(h) for h in s.history_lists) + n_truth == len(x)
    for u, h in zip(s.test_users, s.history_lists):
        seq_t = np.sort(x.timestamp[x.user_idx == u])
        n = len(seq_t)
        assert len(h) == n - 1          # 10 events → 1 truth event, 9 history
    # deterministic; another seed gives another test set
    assert np.array_equal(split_holdout(x, seed=3).test_users, s.test_users)
    assert not np.array_equal(split_holdout(x, seed=4).test_users, s.test_users)


def test_truth_is_newest_events():
    # one user, 20 events, item = time order → truth is the newest 2 items
    u = np.r_[np.zeros(20, int), np.repeat(np.arange(1, 30), 2)]
    i = np.r_[np.arange(20), np.zeros(58, int)]
    t = np.r_[np.arange(20)[::-1], np.zeros(58, int)]  # item 19 is the oldest
    x = from_arrays(u, i, t, n_users=30, n_items=20)
    for seed in range(20):
        s = split_holdout(x, seed)
        if 0 in s.test_users:
            r = list(s.test_users).index(0)
            assert s.truth[r].tolist() == [0, 1]
            assert s.history_lists[r].tolist() == list(range(19, 1, -1))
            break
    else:
        pytest.fail("user 0 never drawn")


def test_evaluate_returns_all_keys_in_unit_range():
    x = _data()
    m = evaluate(PopularityModel.fit, x, seed=0)
    assert set(m) == set(METRIC_KEYS)
    assert all(0.0 <= v <= 1.0 for v in m.values())
