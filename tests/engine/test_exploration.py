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


def test_uniforms_depend_only_on_the_key_and_the_counter():
    keys = [ex.request_seed(0, "recipe", f"u{u}") for u in range(5)]
    block = ex.uniforms(keys, np.arange(100))
    assert ((block > 0) & (block < 1)).all() and len(np.unique(block)) == block.size
    assert ex.uniforms(keys[3:4], np.arange(40, 60))[0].tolist() == block[3, 40:60].tolist()
    assert ex.request_seed(0, "recipe", "u1") == keys[1] != ex.request_seed(1, "recipe", "u1")


def test_a_block_of_draws_equals_each_request_drawn_alone():
    rng = np.random.default_rng(0)
    for trial in range(120):
        n, size = int(rng.integers(1, 12)), int(rng.integers(5, 200))
        rows = 1 if trial % 2 else n                      # one pool shared by the block, or one per request
        weights = rng.random((rows, size)) * (rng.random((rows, size)) < rng.random())
        keys = [ex.request_seed(0, f"{trial}-{r}") for r in range(n)]
        exclude = np.full((n, 8), -1)
        for r in range(n):
            picked = rng.choice(size, size=int(rng.integers(0, 9)), replace=False)
            exclude[r, :len(picked)] = picked
        want = rng.integers(0, 12, n)
        block = ex.draw_block(weights, keys, exclude, want)
        for r in range(n):
            w = weights[0 if rows == 1 else r]
            alone = ex.draw_block(w[None], keys[r:r + 1], exclude[r:r + 1], want[r:r + 1])[0]
            got = block[r][block[r] >= 0]
            assert got.tolist() == alone[alone >= 0].tolist()
            excluded = exclude[r][exclude[r] >= 0]
            assert len(got) == min(want[r], np.count_nonzero(w > 0) - np.count_nonzero(w[excluded] > 0))
            assert not np.isin(got, exclude[r]).any() and len(set(got.tolist())) == len(got) and (w[got] > 0).all()


def test_draws_from_a_large_pool_follow_the_bonus():
    bonus = np.r_[np.full(100, 1.0), np.full(100, 0.1)]   # inverse-CDF path: 5 draws from 200 candidates
    hits = sum(int((ex.draw(np.arange(200), bonus, 5, ex.request_seed(0, f"u{k}")) < 100).sum())
               for k in range(400))
    assert 0.88 < hits / 2000 < 0.94                        # 1/1.1 ≈ 0.91 of the draws (a little more without replacement)


def test_blend_block_rows_equal_blend():
    rng = np.random.default_rng(1)
    n, size, k = 30, 60, 10
    pool = rng.random((n, size)) < 0.3
    pool[0] = False                                         # no pool: the relevance list as it is
    pool[1] = False
    pool[1, :3] = True                                      # a pool inside the relevance head
    codes = np.stack([rng.permutation(size)[:k] for _ in range(n)])
    codes[2, 4:] = -1                                       # a short relevance list
    scores = np.where(codes >= 0, np.sort(rng.random((n, k)))[:, ::-1], np.nan)
    bonus = rng.random(size) + 0.01
    keys = [ex.request_seed(0, f"u{r}") for r in range(n)]
    own = rng.random(size)
    out, s, explored = ex.blend_block(codes, scores, k, pool, bonus, 0.3, keys, lambda rows, c: own[c])
    for r in range(n):
        keep = codes[r] >= 0
        one, one_s, one_e = ex.blend(codes[r][keep], scores[r][keep], k, pool[r], bonus, 0.3, keys[r],
                                     lambda c: own[c])
        assert out[r][out[r] >= 0].tolist() == one.tolist() and explored[r][out[r] >= 0].tolist() == one_e.tolist()
        assert np.array_equal(s[r][out[r] >= 0], one_s, equal_nan=True)
    assert out[0].tolist() == codes[0].tolist() and not explored[0].any()


def test_draws_limited_to_allowed_items_equal_each_request_drawn_alone(monkeypatch):
    monkeypatch.setattr(ex, "MAX_UNAVAILABLE", 20)          # rows below and above the shared-table limit
    rng = np.random.default_rng(3)
    for trial in range(60):
        n, size = int(rng.integers(1, 10)), int(rng.integers(30, 300))
        table = ex.DrawTable.of(rng.random(size) * (rng.random(size) < 0.7))
        allowed = rng.random((n, size)) < rng.uniform(0.5, 1.0, (n, 1))
        if trial % 3 == 0:
            allowed = allowed[:1]                           # one filter mask for the whole block
        keys = [ex.request_seed(0, f"{trial}-{r}") for r in range(n)]
        exclude = np.full((n, 4), -1)
        want = rng.integers(0, 10, n)
        block = ex.draw_allowed(table, allowed, keys, exclude, want)
        for r in range(n):
            row = allowed[0 if len(allowed) == 1 else r]
            alone = ex.draw_allowed(table, row[None], keys[r:r + 1], exclude[r:r + 1], want[r:r + 1])[0]
            got = block[r][block[r] >= 0]
            assert got.tolist() == alone[alone >= 0].tolist()
            assert row[got].all() and (table.weights[0, got] > 0).all() and len(set(got.tolist())) == len(got)
            assert len(got) == min(want[r], np.count_nonzero(row & (table.weights[0] > 0)))


def test_a_filtered_draw_follows_the_bonus_among_the_allowed_items():
    bonus = np.r_[np.full(100, 1.0), np.full(100, 0.1), np.full(100, 5.0)]
    table = ex.DrawTable.of(bonus)
    allowed = np.r_[np.ones(200, bool), np.zeros(100, bool)]  # the heavy third is filtered out (100 holes)
    hits = 0
    for k in range(400):
        got = ex.draw_allowed(table, allowed[None], [ex.request_seed(0, f"u{k}")], np.full((1, 0), -1), [5])[0]
        assert allowed[got].all() and len(got) == 5
        hits += int((got < 100).sum())
    assert 0.88 < hits / 2000 < 0.94                         # as if the pool were the 200 allowed items
