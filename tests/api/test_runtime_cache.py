"""The runtime's answer cache (control/serving._AnswerCache, issue 6 latency): a repeat GetRecommendations
gives exactly what the uncached path (serving.recommend_block) gives, and anything that changes the answer
— the user's own events, anyone's events (exploration statistics), the filter mask, k — misses it."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import numpy as np
import pytest

from localpersonalize.api import runtime
from localpersonalize.control import serving
from localpersonalize.moto_compat import store_for

from .runtime_world import open_world
from .test_runtime import make_filter, stream


@pytest.fixture(scope="module")
def world():
    arns, close = open_world()
    personalize = boto3.client("personalize")
    arns["filter"] = make_filter(personalize, arns, "cache-no-clicks",
                                 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')
    yield arns
    close()


def _served(arn: str):
    ctx = SimpleNamespace(store=store_for("123456789012", "us-east-1"))
    key = "recommenderArn" if ":recommender/" in arn else "campaignArn"
    return ctx, runtime._served(ctx, {key: arn}, "GetRecommendations")


def _mask(ctx, served, user_id, filter_arn=None):
    n = served.n_catalogue
    mask = serving.base_mask(served, user_id, n)
    if filter_arn:
        mask = mask & serving.filter_mask(ctx.store, served, filter_arn, None, user_id=user_id, n=n)
    return mask


def _same(a: serving.Ranked, b: serving.Ranked) -> None:
    assert a.codes.tolist() == b.codes.tolist()
    assert np.array_equal(a.scores, b.scores, equal_nan=True)          # bit for bit, not approximately
    assert [list(r) for r in a.reasons] == [list(r) for r in b.reasons]


def _uncached(served, user_id, k, mask, explore=True):
    return serving.recommend_block(served, [user_id], mask[None, :], k, explore=explore)[0]


@pytest.mark.parametrize("name", ["up2", "up", "pop", "top"])
def test_a_cached_answer_equals_the_uncached_one(world, name):
    ctx, served = _served(world[name])
    serving._ANSWERS.clear()
    for user_id in ["u0", "u7", "u33", "never-seen", None]:
        for k in (5, 25):
            for filter_arn in (None, world["filter"] if name != "top" else None):
                mask = _mask(ctx, served, user_id, filter_arn)
                first = serving.recommend_codes(served, user_id, k, mask)       # computed, then kept
                again = serving.recommend_codes(served, user_id, k, mask)       # the kept answer
                _same(first, _uncached(served, user_id, k, mask))
                _same(again, first)


def test_a_cached_answer_is_shared_read_only(world):
    ctx, served = _served(world["up2"])
    mask = _mask(ctx, served, "u3")
    first = serving.recommend_codes(served, "u3", 10, mask)
    with pytest.raises(ValueError):
        first.codes[:] = -1
    with pytest.raises(ValueError):
        first.scores[0] = 1.0
    with pytest.raises(AttributeError):
        first.reasons.append(["changed"])
    items = serving.predicted(served, first)
    items[0]["itemId"] = "changed"
    again = serving.recommend_codes(served, "u3", 10, mask)
    assert again is first and serving.predicted(served, again)[0]["itemId"] != "changed"
    _same(again, _uncached(served, "u3", 10, mask))


def test_the_users_own_event_changes_the_cached_answer_at_once(world):
    rt = boto3.client("personalize-runtime")
    before = rt.get_recommendations(campaignArn=world["up2"], userId="u5", numResults=10)
    assert rt.get_recommendations(campaignArn=world["up2"], userId="u5", numResults=10)["itemList"] == \
        before["itemList"]
    # u5 stays in genre 2; clicks on genre-0 items move the user (the real-time personalization rule)
    stream(world["group"], "u5", [f"i{i}" for i in (0, 3, 6, 9, 12, 15)])
    after = rt.get_recommendations(campaignArn=world["up2"], userId="u5", numResults=10)
    assert after["itemList"] != before["itemList"]
    ctx, served = _served(world["up2"])
    mask = _mask(ctx, served, "u5")
    _same(serving.recommend_codes(served, "u5", 10, mask), _uncached(served, "u5", 10, mask))


def test_an_event_of_another_user_renews_the_data_state(world):
    ctx, served = _served(world["up"])
    mask = _mask(ctx, served, "u9")
    serving.recommend_codes(served, "u9", 25, mask)
    key_before = serving._ANSWERS._key(served, "u9", 25, mask, None, True)[0]
    stream(world["group"], "u10", ["i1"])
    key_after = serving._ANSWERS._key(served, "u9", 25, mask, None, True)[0]
    assert key_after != key_before            # u9's history is the same, the exploration statistics are not
    _same(serving.recommend_codes(served, "u9", 25, mask), _uncached(served, "u9", 25, mask))


def test_the_filter_mask_and_k_are_part_of_the_key(world):
    ctx, served = _served(world["up"])
    plain, filtered = _mask(ctx, served, "u2"), _mask(ctx, served, "u2", world["filter"])
    assert not np.array_equal(plain, filtered)
    a = serving.recommend_codes(served, "u2", 10, plain)
    b = serving.recommend_codes(served, "u2", 10, filtered)
    c = serving.recommend_codes(served, "u2", 5, plain)
    assert filtered[b.codes].all()
    assert a.codes.tolist() != b.codes.tolist()
    assert len(c) == 5
    _same(b, _uncached(served, "u2", 10, filtered))


def test_the_eligible_mask_is_kept_read_only_and_equals_the_computed_one(world):
    ctx, served = _served(world["up"])
    p = {"userId": "u4", "filterArn": world["filter"]}
    runtime._MASKS.clear()
    kept = runtime._MASKS.eligible(ctx, served, p, served.n_catalogue)
    assert runtime._MASKS.eligible(ctx, served, p, served.n_catalogue) is kept
    assert not kept.flags.writeable
    assert np.array_equal(kept, _mask(ctx, served, "u4", world["filter"]))
    assert runtime._MASKS.eligible(ctx, served, {"userId": "u5", "filterArn": world["filter"]},
                                   served.n_catalogue) is not kept       # the filter reads the user's events


def test_an_items_upsert_renews_the_kept_filter_mask(world):
    personalize = boto3.client("personalize")
    genre = make_filter(personalize, world, "cache-genre", "INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)")
    ctx, served = _served(world["up"])
    p = {"userId": "u4", "filterArn": genre, "filterValues": {"GENRE": '"Comedy"'}}
    code = served.data.items.code("i1", add=False)                          # i1 is a Drama
    assert not runtime._MASKS.eligible(ctx, served, p, served.n_catalogue)[code]
    served.data.dataset("ITEMS").put_records(
        [{"ITEM_ID": "i1", "GENRE": "Comedy", "PRICE": 1.0, "CREATION_TIMESTAMP": 1_600_000_001}])
    assert runtime._MASKS.eligible(ctx, served, p, served.n_catalogue)[code]
