"""Unit tests per engine on small synthetic data with a planted structure (issue 5, acceptance)."""
import numpy as np
import pytest

from localpersonalize import engine
from localpersonalize.engine import (ActionData, NextBestActionModel, SimilarItemsModel, TrendingModel,
                                     from_arrays, item_features, users_for_item, users_for_items)
from localpersonalize.engine.hpo import sample_trials
from localpersonalize.engine.params import percentile_filter
from localpersonalize.engine.segments import segment_metrics, split_per_user
from localpersonalize.engine.trending import trend_prediction_accuracy, trend_window_seconds

HOUR = 3600


# ----------------------------------------------------------------------------- Trending-Now
def _steady_plus_burst(burst_item=42, n_items=50):
    rng = np.random.default_rng(0)
    t0 = 1_700_000_000
    users, items, ts = [], [], []
    for h in range(48):                         # two days of steady traffic on items 0..9 (item 0 most popular)
        for _ in range(30):
            users.append(int(rng.integers(200)))
            items.append(int(min(9, rng.geometric(0.4) - 1)))
            ts.append(t0 + h * HOUR + int(rng.integers(HOUR)))
    for k in range(40):                         # item 42 takes off in the last 2 hours
        users.append(200 + k)
        items.append(burst_item)
        ts.append(t0 + 48 * HOUR - 2 * HOUR + k * 100)
    return from_arrays(users, items, ts, n_users=240, n_items=n_items)


def test_trending_ranks_the_fastest_growing_item_first():
    x = _steady_plus_burst()
    m = engine.train("aws-trending-now", x, {"trend_discovery_frequency": "2 hours"})
    items, _ = m.recommend(np.empty(0, np.int32), 5)
    assert items[0] == 42 and m.trending
    assert m.growth[42] == 40


def test_trending_falls_back_to_popular_items_without_events_in_the_last_two_windows():
    x = _steady_plus_burst()
    old = x.subset(x.timestamp < x.timestamp.max() - 6 * HOUR)
    m = TrendingModel.fit(old, HOUR, now=int(old.timestamp.max()) + 10 * HOUR)
    pop = engine.PopularityModel.fit(old)
    assert not m.trending
    assert list(m.recommend([], 5)[0]) == list(pop.recommend([], 5)[0])


def test_trending_fills_the_list_with_popular_items_after_the_trending_ones():
    m = engine.train("aws-trending-now", _steady_plus_burst(), {})
    items, _ = m.recommend([], 12)
    assert len(items) == 11 and items[0] == 42 and set(items) == set(range(10)) | {42}


def test_trend_discovery_frequency_values():
    assert trend_window_seconds("30 minutes") == 1800 and trend_window_seconds("1 day") == 86400
    assert trend_window_seconds(None) == 7200
    with pytest.raises(ValueError, match="trend_discovery_frequency"):
        trend_window_seconds("5 minutes")


def test_trend_prediction_accuracy_is_one_when_the_growing_item_is_recommended():
    x = _steady_plus_burst()
    m = TrendingModel.fit(x, 2 * HOUR)
    assert trend_prediction_accuracy(m, x, k=1) == 1.0
    _, metrics = engine.train_and_evaluate("aws-trending-now", x, {})
    assert "trend_prediction_accuracy" in metrics and "precision_at_25" in metrics


# ----------------------------------------------------------------------------- Similar-Items
def _catalogue(n_items=100):
    genre = np.array(["drama" if i < 50 else "comedy|family" for i in range(n_items)], dtype=object)
    text = np.array([("a sad tearful story of loss" if i < 50 else "a funny silly laugh riot") + f" n{i}"
                     for i in range(n_items)], dtype=object)
    return item_features(n_items + 2, np.arange(n_items + 2),
                         [np.r_[genre, ["drama", "comedy"]].astype(object)],
                         np.r_[text, ["tearful loss story", "silly funny laugh"]].astype(object))


def test_similar_items_answers_a_cold_item_from_its_metadata(two_groups):
    x = from_arrays(two_groups.user_idx, two_groups.item_idx, two_groups.timestamp, n_users=60, n_items=102)
    m = SimilarItemsModel.fit(x, _catalogue())
    cold_drama, cold_comedy = 100, 101                  # no interactions at all
    items, sims = m.similar_items(cold_drama, 10)
    assert (items < 50).all() and (sims > 0).all()
    items, _ = m.similar_items(cold_comedy, 10)
    assert ((items >= 50) & (items < 100)).all()


def test_similar_items_uses_co_occurrence_for_items_with_interactions(two_groups):
    x = from_arrays(two_groups.user_idx, two_groups.item_idx, two_groups.timestamp, n_users=60, n_items=102)
    items, _ = SimilarItemsModel.fit(x, None).similar_items(3, 10)       # no metadata: behaviour only
    assert (items < 50).all() and 3 not in items


def test_similar_items_cold_items_can_be_recommended_by_metadata(two_groups):
    x = from_arrays(two_groups.user_idx, two_groups.item_idx, two_groups.timestamp, n_users=60, n_items=102)
    items, _ = SimilarItemsModel.fit(x, _catalogue()).similar_items(0, 60)
    assert 100 in items and 101 not in items


def test_item_features_one_hot_and_tfidf_rows_are_unit_length():
    F = _catalogue()
    norms = np.sqrt(np.asarray(F.multiply(F).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0, atol=1e-5)


# ----------------------------------------------------------------------------- segments
def test_users_for_item_finds_the_group_that_likes_it(two_groups):
    m = engine.train("aws-item-affinity", two_groups, {})
    H = m.histories_csr([two_groups.history(u) for u in range(60)])
    users, p = users_for_item(m, H, 10, 10)
    assert len(users) == 10 and (users < 30).all() and np.all(np.diff(p) <= 0)
    (u2, _), = users_for_items(m, H, [np.arange(50, 100)], 30)
    assert (u2 >= 30).all()


def test_segmentation_split_is_80_20_of_each_users_events_by_time(two_groups):
    train, test = split_per_user(two_groups)
    assert len(test) == 60 * 4 and len(train) == 60 * 16
    for u in (0, 45):
        assert train.timestamp[train.user_idx == u].max() < test.timestamp[test.user_idx == u].min()


def test_segmentation_metrics_find_real_users(two_groups_factory):
    x = two_groups_factory(n_users=400, n_items=100, per_user=20)
    model, metrics = engine.train_and_evaluate("aws-item-affinity", x, {})
    assert set(metrics) == {"coverage", "hits_at_1_percent", "recall_at_1_percent"}
    train, test = split_per_user(x)
    random_hits = 4 * 0.5 * 4 / 50          # K=4 users, half the users are in the item's group, ~4 real of 200
    assert metrics["hits_at_1_percent"] > random_hits
    assert segment_metrics(model, train, test)["coverage"] > 0


# ----------------------------------------------------------------------------- Next-Best-Action
def _nba_world(n_users=400, taken_per_group=True, seed=0):
    """Users 0..199 browse items 0..49 and take action 0; users 200..399 browse 50..99 and take action 1."""
    rng = np.random.default_rng(seed)
    day, t0 = 86400, 1_700_000_000
    u, i, t = [], [], []
    for user in range(n_users):
        base = 0 if user < n_users // 2 else 50
        for k in range(10):
            u.append(user)
            i.append(base + int(rng.integers(50)))
            t.append(t0 + int(rng.integers(60 * day)))
    items = from_arrays(u, i, t, n_users=n_users, n_items=100)
    au, aa, at, tk = [], [], [], []
    for user in range(n_users):
        good = 0 if user < n_users // 2 else 1
        for a in range(3):
            for when in (30, 55):
                au.append(user)
                aa.append(a)
                at.append(t0 + when * day + int(rng.integers(day)))
                tk.append(taken_per_group and a == good and rng.random() < 0.8)
    actions = ActionData(np.array(au), np.array(aa), np.array(at), np.array(tk), 3,
                         np.array([1.0, 5.0, 3.0]), np.full(3, np.nan), np.full(3, np.nan))
    return items, actions


def test_next_best_action_learns_which_group_takes_which_action():
    items, actions = _nba_world()
    m = engine.train("aws-next-best-action", items, {}, actions=actions)
    assert m.personalized
    a_low, s_low = m.recommend_actions(items.history(5), k=3)
    a_high, _ = m.recommend_actions(items.history(300), k=3)
    assert a_low[0] == 0 and a_high[0] == 1 and 0 <= s_low.min() and s_low.max() <= 1


def test_next_best_action_below_the_data_gate_scores_zero_and_orders_by_value():
    items, actions = _nba_world(n_users=30, taken_per_group=False)
    m = engine.train("aws-next-best-action", items, {}, actions=actions)
    acts, scores = m.recommend_actions(items.history(1), k=3)
    assert not m.personalized and list(acts) == [1, 2, 0] and (scores == 0.0).all()


def test_next_best_action_drops_expired_and_repeat_window_actions():
    items, actions = _nba_world()
    m = NextBestActionModel.fit(items, actions)
    expired = ActionData(*[getattr(actions, f) for f in ("user_idx", "action_idx", "timestamp", "taken")], 3,
                         actions.value, np.array([np.nan, 0.0, np.nan]), np.array([np.nan, np.nan, 7.0]))
    m.actions = expired
    last = np.array([np.nan, np.nan, float(m.now - 86400)])
    acts, _ = m.recommend_actions(items.history(300), k=3, last_taken=last)
    assert list(acts) == [0]


def test_next_best_action_metrics():
    items, actions = _nba_world()
    _, metrics = engine.train_and_evaluate("aws-next-best-action", items, {}, actions=actions)
    assert set(metrics) == {"coverage", "precision", "recall", "area_under_the_curve"}
    assert metrics["area_under_the_curve"] > 0.8 and metrics["precision"] > 0.5


def test_action_optimization_period_range():
    items, actions = _nba_world(n_users=30)
    with pytest.raises(ValueError, match="action_optimization_period"):
        engine.train("aws-next-best-action", items, {"action_optimization_period": "3"}, actions=actions)


# ----------------------------------------------------------------------------- UPDATE
@pytest.mark.parametrize("algorithm", ["ease", "ials"])
def test_update_folds_in_a_new_item_without_retraining(two_groups, algorithm):
    m = engine.train("aws-user-personalization", two_groups, {}, algorithm=algorithm)
    # item 100 is new: 25 users of the first group interact with it
    new_u = np.arange(25)
    x = from_arrays(np.r_[two_groups.user_idx, new_u], np.r_[two_groups.item_idx, np.full(25, 100)],
                    np.r_[two_groups.timestamp, np.full(25, two_groups.timestamp.max() + 60)],
                    n_users=61, n_items=101)
    up = engine.update(m, x)
    assert up.n_items == 101 and up.temperature == m.temperature
    items, _ = up.recommend(two_groups.history(27), 10, exclude=two_groups.history(27))
    assert 100 in items
    items, _ = up.recommend(two_groups.history(45), 10, exclude=two_groups.history(45))
    assert 100 not in items and (items >= 50).all()


def test_update_of_a_dual_ease_model(two_groups_factory):
    x = two_groups_factory(n_users=40, n_items=200, per_user=20)     # 40 users < 200 items → dual
    m = engine.EASEModel.fit(x)
    assert m.B is None
    x2 = from_arrays(np.r_[x.user_idx, np.arange(15)], np.r_[x.item_idx, np.full(15, 200)],
                     np.r_[x.timestamp, np.full(15, x.timestamp.max() + 1)], n_users=40, n_items=201)
    up = m.update(x2)
    items, _ = up.recommend(x.history(17), 10, exclude=x.history(17))
    assert 200 in items


def test_update_is_refused_by_models_without_it(two_groups):
    with pytest.raises(NotImplementedError):
        engine.update(engine.train("aws-sims", two_groups, {}), two_groups)


# ----------------------------------------------------------------------------- HPO and featurization
def test_hpo_trials_start_with_the_base_and_stay_in_range():
    ranges = {"integerHyperParameterRanges": [{"name": "training.bptt", "minValue": 2, "maxValue": 22}],
              "continuousHyperParameterRanges": [{"name": "popularity_discount_factor", "minValue": 0.1,
                                                  "maxValue": 0.9}],
              "categoricalHyperParameterRanges": [{"name": "data.recency_mask", "values": ["true", "false"]}]}
    trials = sample_trials({"bptt": "32"}, ranges, 6, seed=1)
    assert trials[0] == {"bptt": "32"} and len(trials) == 6
    assert all(2 <= int(t["bptt"]) <= 22 and 0.1 <= float(t["popularity_discount_factor"]) <= 0.9
               and t["recency_mask"] in ("true", "false") for t in trials[1:])
    assert trials == sample_trials({"bptt": "32"}, ranges, 6, seed=1)


def test_hpo_picks_the_trial_with_the_best_objective(two_groups_factory):
    x = two_groups_factory(n_users=200)
    ranges = {"integerHyperParameterRanges": [{"name": "min_cointeraction_count", "minValue": 0, "maxValue": 10}]}
    best, trials = engine.hpo("aws-sims", x, {"min_cointeraction_count": "10"}, ranges, 5, 2)
    values = [v for _, v in trials]
    assert len(trials) == 5 and best == trials[int(np.argmax(values))][0]
    assert max(values) > values[0]              # 10 co-interactions drops nearly every pair on this data


def test_user_history_percentiles_drop_the_longest_histories():
    u = np.r_[np.repeat(np.arange(99), 5), np.full(500, 99)]      # user 99 is a "bot"
    x = from_arrays(u, np.arange(len(u)) % 40)
    kept = percentile_filter(x, {"max_user_history_length_percentile": "0.98"})
    assert 99 not in kept.user_idx and len(kept) == 495
    assert percentile_filter(x, {}) is x
