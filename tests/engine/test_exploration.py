"""engine/exploration.py: pool by age, bonus 1/(1+interactions+impressions), slots, seeded draws, blend."""

import numpy as np

from localpersonalize.engine import exploration as ex


def test_item_age_comes_from_creation_then_first_interaction_then_counts_as_new():
    ages = ex.item_age_days(np.array([0.0, np.nan, np.nan]), np.array([5 * ex.DAY, 8 * ex.DAY, np.nan]), 10 * ex.DAY)
    assert ages.tolist() == [10.0, 2.0, 0.0]


def test_bonus_is_inverse_to_interactions_plus_impressions():
    assert ex.exploration_bonus(np.array([0, 1, 3]), np.array([0, 1, 0])).tolist() == [1.0, 1 / 3, 0.25]


def test_pool_keeps_allowed_items_within_the_age_cut_off():
    pool = ex.exploration_pool(np.array([1.0, 31.0, 2.0]), 30, np.array([True, True, False]))
    assert pool.tolist() == [True, False, False]


def test_slots_are_the_weight_share_of_the_list():
    assert [ex.exploration_slots(w, 25) for w in (0.0, 0.3, 1.0)] == [0, 8, 25]


def test_draws_are_deterministic_under_a_seed_and_follow_the_bonus():
    bonus = np.r_[np.full(5, 1.0), np.full(5, 0.01)]
    a = ex.draw(np.arange(10), bonus, 3, ex.request_seed(0, "u1"))
    assert a.tolist() == ex.draw(np.arange(10), bonus, 3, ex.request_seed(0, "u1")).tolist()
    hits = sum(int((ex.draw(np.arange(10), bonus, 3, ex.request_seed(0, f"u{k}")) < 5).sum()) for k in range(100))
    assert hits > 280  # ~97 % of the draws go to the items without interactions/impressions


def test_blend_keeps_the_relevance_head_and_ends_with_the_explored_items():
    codes, scores = np.arange(10), np.linspace(1, 0.1, 10)
    pool = np.zeros(20, bool)
    pool[15:] = True
    out, s, explored = ex.blend(codes, scores, 10, pool, np.ones(20), 0.3, ex.request_seed(0, "u"))
    assert out[:7].tolist() == list(range(7)) and set(out[7:].tolist()) <= set(range(15, 20))
    assert explored.tolist() == [False] * 7 + [True] * 3 and s[7:].tolist() == [0.0] * 3
    out0, _, explored0 = ex.blend(codes, scores, 10, pool, np.ones(20), 0.0, ex.request_seed(0, "u"))
    assert out0.tolist() == codes.tolist() and not explored0.any()


def test_config_from_the_api_map_with_defaults():
    assert ex.ExplorationConfig.from_api(None) == ex.ExplorationConfig(0.3, 30.0)
    assert ex.ExplorationConfig.from_api({"explorationWeight": "1", "explorationItemAgeCutOff": "7"}) == \
        ex.ExplorationConfig(1.0, 7.0)
