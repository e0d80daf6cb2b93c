"""Round trips through boto3 of the runtime rules of issue 6 (§1-§3, §5-§7): inputs per recipe, limits,
scores, cold start, ranking, promotions, metadata, domain exclusions, and events that change the next
answer for exactly the recipes that react in real time. One world per module (runtime_world.py)."""

from __future__ import annotations

import boto3
import pytest

from ..helpers import client_error as _code, wait_for
from .runtime_world import N_ITEMS, genre_of, group_data, open_world


@pytest.fixture(scope="module")
def world():
    arns, close = open_world()
    yield arns
    close()


@pytest.fixture
def rt(world):
    return boto3.client("personalize-runtime")


@pytest.fixture
def personalize(world):
    return boto3.client("personalize")


def _ids(answer):
    return [i["itemId"] for i in answer["itemList"]]


def make_filter(personalize, world, name, expression):
    arn = personalize.create_filter(name=name, datasetGroupArn=world["group"], filterExpression=expression)["filterArn"]
    assert wait_for(lambda: personalize.describe_filter(filterArn=arn), "filter")["status"] == "ACTIVE"
    return arn


def stream(group_arn, user, items, event_type="click", at=1_700_000_000):
    group_data(group_arn).dataset("INTERACTIONS").put_records(
        [{"USER_ID": user, "ITEM_ID": item, "TIMESTAMP": at + k, "EVENT_TYPE": event_type}
         for k, item in enumerate(items)])


# ---------------------------------------------------------------- GetRecommendations basics (§1)

def test_num_results_defaults_to_25_sorted_by_score_with_a_recommendation_id(rt, world):
    answer = rt.get_recommendations(campaignArn=world["up2"], userId="u1")
    scores = [i["score"] for i in answer["itemList"] if "score" in i]  # explored unknown items have none
    assert len(answer["itemList"]) == 25 and scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    assert answer["recommendationId"].startswith("RID-") and len(answer["recommendationId"]) == 40


def test_num_results_above_500_or_above_50_with_metadata_is_refused(rt, world):
    assert _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1", numResults=501)[0] == \
        "InvalidInputException"
    code, message = _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1", numResults=51,
                          metadataColumns={"ITEMS": ["GENRE"]})
    assert code == "InvalidInputException" and "50" in message


@pytest.mark.parametrize("name, missing, kw", [("up2", "userId", {}), ("sims", "itemId", {}),
                                               ("top", "userId", {})])
def test_user_id_and_item_id_are_required_per_recipe_and_use_case(rt, world, name, missing, kw):
    key = "recommenderArn" if name == "top" else "campaignArn"
    code, message = _code(rt.get_recommendations, **{key: world[name]}, **kw)
    assert code == "InvalidInputException" and missing in message


def test_related_items_need_no_user_id(rt, world):
    assert len(_ids(rt.get_recommendations(campaignArn=world["sims"], itemId="i3", numResults=5))) == 5


def test_each_recipe_type_answers_only_through_its_own_operation(rt, world):
    assert _code(rt.get_recommendations, campaignArn=world["pr"], userId="u1")[0] == "InvalidInputException"
    assert _code(rt.get_personalized_ranking, campaignArn=world["up2"], userId="u1",
                 inputList=["i1"])[0] == "InvalidInputException"


def test_scores_only_for_the_recipes_that_give_them(rt, world):
    assert all("score" in i for i in rt.get_recommendations(campaignArn=world["up"], userId="u1")["itemList"])
    for answer in (rt.get_recommendations(campaignArn=world["pop"], userId="u1"),
                   rt.get_recommendations(campaignArn=world["sims"], itemId="i1"),
                   rt.get_recommendations(recommenderArn=world["top"], userId="u1")):
        assert answer["itemList"] and not any("score" in i for i in answer["itemList"])


def test_an_unknown_user_gets_the_popular_items(rt, world):
    answer = rt.get_recommendations(campaignArn=world["up2"], userId="nobody", numResults=10)["itemList"]
    cold = [i["itemId"] for i in answer if "Exploration" not in i.get("reason", [])]
    popular = _ids(rt.get_recommendations(campaignArn=world["pop"], userId="nobody", numResults=10))
    assert len(cold) == 9 and cold == popular[:9]  # UP-v2 explores 10 % of the places (one of ten)


def test_an_unknown_item_gets_popular_related_items(rt, world):
    related = _ids(rt.get_recommendations(campaignArn=world["sims"], itemId="no-such-item", numResults=10))
    assert related == _ids(rt.get_recommendations(campaignArn=world["pop"], numResults=10))


def test_domain_use_cases_drop_what_the_user_watched(rt, world):
    watched = set(group_data(world["vod"]).dataset("INTERACTIONS").column("ITEM_ID")[
        group_data(world["vod"]).dataset("INTERACTIONS").column("USER_ID") == "u2"])
    items = _ids(rt.get_recommendations(recommenderArn=world["top"], userId="u2", numResults=50))
    assert items and not watched & set(items)


# ---------------------------------------------------------------- GetPersonalizedRanking (§2)

def test_ranking_scores_sum_to_one_over_the_inputs_and_unknown_items_go_last(rt, world):
    answer = rt.get_personalized_ranking(campaignArn=world["pr"], userId="u1",
                                         inputList=["i1", "i4", "i7", "brand-new", "i2"])["personalizedRanking"]
    known = answer[:4]
    assert [i["itemId"] for i in answer][-1] == "brand-new" and answer[-1]["score"] == 0.0  # v1: score 0
    assert abs(sum(i["score"] for i in known) - 1) < 1e-5
    assert [i["score"] for i in known] == sorted((i["score"] for i in known), reverse=True)


def test_ranking_input_list_is_limited_to_500(rt, world):
    code, message = _code(rt.get_personalized_ranking, campaignArn=world["pr"], userId="u1",
                          inputList=[f"i{k}" for k in range(501)])
    assert code == "InvalidInputException" and "500" in message


def test_a_filter_applies_to_the_ranking(rt, personalize, world):
    arn = make_filter(personalize, world, "rank-genre", 'INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)')
    answer = rt.get_personalized_ranking(campaignArn=world["pr"], userId="u1", inputList=["i0", "i1", "i2", "i3"],
                                         filterArn=arn, filterValues={"GENRE": '"Drama"'})["personalizedRanking"]
    assert [i["itemId"] for i in answer] == ["i1"] and answer[0]["score"] == pytest.approx(1.0)


# ---------------------------------------------------------------- GetActionRecommendations (§3)

def test_action_recommendations_need_a_next_best_action_campaign(rt, world):
    assert _code(rt.get_action_recommendations, campaignArn=world["up2"], userId="u1")[0] == "InvalidInputException"
    assert _code(rt.get_action_recommendations, campaignArn=world["up2"], userId="u1",
                 numResults=101)[0] == "InvalidInputException"


# ---------------------------------------------------------------- filters (§4)

def test_filter_lifecycle_describe_list_delete(personalize, world):
    arn = make_filter(personalize, world, "life", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    found = personalize.describe_filter(filterArn=arn)["filter"]
    assert found["filterExpression"] == 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    assert found["datasetGroupArn"] == world["group"] and found["name"] == "life"
    assert arn in [f["filterArn"] for f in personalize.list_filters(datasetGroupArn=world["group"])["Filters"]]
    personalize.delete_filter(filterArn=arn)
    assert _code(personalize.describe_filter, filterArn=arn)[0] == "ResourceNotFoundException"


def test_create_filter_refuses_a_bad_expression_with_the_documented_message(personalize, world):
    code, message = _code(personalize.create_filter, name="bad", datasetGroupArn=world["group"],
                          filterExpression='INCLUDE ItemID WHERE Items.GENRE NOT IN ($GENRE)')
    assert code == "InvalidInputException"
    assert message == ("Cannot create filter. Invalid input symbol: $GENRE. Placeholders are not supported for "
                       "the NOT_IN operator.")
    assert _code(personalize.describe_filter, filterArn=world["group"].replace("dataset-group", "filter")[:-2]
                 + "bad")[0] == "ResourceNotFoundException"


def test_at_most_10_filters_per_dataset_group(personalize, world):
    made = [make_filter(personalize, world, f"many{k}", f'EXCLUDE ItemID WHERE Items.PRICE > {k}')
            for k in range(10 - len(personalize.list_filters(datasetGroupArn=world["group"])["Filters"]))]
    try:
        assert _code(personalize.create_filter, name="one-too-many", datasetGroupArn=world["group"],
                     filterExpression='EXCLUDE ItemID WHERE Items.PRICE > 1')[0] == "LimitExceededException"
    finally:
        for arn in made:
            personalize.delete_filter(filterArn=arn)


def test_a_filter_drops_what_the_user_clicked_and_sees_streamed_clicks_at_once(rt, personalize, world):
    arn = make_filter(personalize, world, "no-clicks", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')
    data = group_data(world["group"])
    ds = data.dataset("INTERACTIONS")
    clicked = set(ds.column("ITEM_ID")[(ds.column("USER_ID") == "u5") & (ds.column("EVENT_TYPE") == "click")])
    for name in ("up2", "pop"):
        items = _ids(rt.get_recommendations(campaignArn=world[name], userId="u5", numResults=40, filterArn=arn))
        assert items and not clicked & set(items)
    top = _ids(rt.get_recommendations(campaignArn=world["pop"], userId="u5", filterArn=arn))[0]
    stream(world["group"], "u5", [top])
    assert top not in _ids(rt.get_recommendations(campaignArn=world["pop"], userId="u5", filterArn=arn))


def test_filter_values_select_and_an_include_parameter_is_required(rt, personalize, world):
    arn = make_filter(personalize, world, "genre", 'INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)')
    items = _ids(rt.get_recommendations(campaignArn=world["up2"], userId="u1", filterArn=arn,
                                        filterValues={"GENRE": '"Comedy", "Horror"'}))
    assert items and {genre_of(int(i[1:])) for i in items} <= {"Comedy", "Horror"}
    code, message = _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1", filterArn=arn)
    assert code == "InvalidInputException" and "$GENRE" in message


def test_current_item_filters_serve_related_items_only(rt, personalize, world):
    arn = make_filter(personalize, world, "same-genre", 'INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE')
    items = _ids(rt.get_recommendations(campaignArn=world["sims"], itemId="i4", filterArn=arn, numResults=10))
    assert items and {genre_of(int(i[1:])) for i in items} == {genre_of(4)}
    assert _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1", filterArn=arn)[0] == \
        "InvalidInputException"


def test_a_filter_of_another_dataset_group_is_refused(rt, world):
    arn = boto3.client("personalize").create_filter(
        name="vod-filter", datasetGroupArn=world["vod"],
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')["filterArn"]
    wait_for(lambda: boto3.client("personalize").describe_filter(filterArn=arn), "filter")
    assert _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1", filterArn=arn)[0] == \
        "InvalidInputException"


# ---------------------------------------------------------------- promotions (§5)

def test_promoted_items_fill_their_share_carry_the_promotion_name_and_keep_their_order(rt, personalize, world):
    promo = make_filter(personalize, world, "promo-horror", 'INCLUDE ItemID WHERE Items.GENRE IN ("Horror")')
    request = make_filter(personalize, world, "req-comedy", 'INCLUDE ItemID WHERE Items.GENRE IN ("Comedy")')
    answer = rt.get_recommendations(campaignArn=world["up2"], userId="u1", numResults=10, filterArn=request,
                                     promotions=[{"name": "horror-week", "percentPromotedItems": 30,
                                                  "filterArn": promo}])["itemList"]
    promoted = [i for i in answer if "promotionName" in i]
    others = [i for i in answer if "promotionName" not in i]
    assert len(answer) == 10 and len(promoted) == 3
    assert {i["promotionName"] for i in promoted} == {"horror-week"}
    assert {genre_of(int(i["itemId"][1:])) for i in promoted} == {"Horror"}
    assert {genre_of(int(i["itemId"][1:])) for i in others} == {"Comedy"}
    assert all(i["reason"] == ["Promoted item"] for i in promoted)  # User-Personalization-v2 gives reasons
    ranked = [i for i in others if i.get("reason") != ["Exploration"]]  # explored items come last, maybe unscored
    assert others[:len(ranked)] == ranked
    for group in (promoted, ranked):
        assert [i["score"] for i in group] == sorted((i["score"] for i in group), reverse=True)


@pytest.mark.parametrize("missing", ["name", "percentPromotedItems", "filterArn"])
def test_a_promotion_without_its_name_share_or_filter_is_refused(rt, personalize, world, missing):
    promo = {"name": "horror-week", "percentPromotedItems": 30,
             "filterArn": make_filter(personalize, world, f"promo-no-{missing}", 'INCLUDE ItemID WHERE Items.GENRE IN ("Horror")')}
    del promo[missing]
    code, message = _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1", promotions=[promo])
    assert code == "InvalidInputException" and missing in message


# ---------------------------------------------------------------- metadata (§6)

def test_metadata_columns_come_from_the_items_dataset_when_enabled(rt, world):
    items = rt.get_recommendations(campaignArn=world["up2"], userId="u1", numResults=5,
                                   metadataColumns={"ITEMS": ["GENRE", "PRICE"]})["itemList"]
    for item in items:
        n = int(item["itemId"][1:])
        assert item["metadata"] == {"GENRE": genre_of(n), "PRICE": str(float(n))}
    related = rt.get_recommendations(campaignArn=world["sims"], itemId="i1", numResults=3,
                                     metadataColumns={"ITEMS": ["GENRE"]})["itemList"]
    assert all(set(i["metadata"]) == {"GENRE"} for i in related)


def test_metadata_columns_are_refused_unless_enabled_or_unknown(rt, world):
    code, message = _code(rt.get_recommendations, campaignArn=world["up"], userId="u1",
                          metadataColumns={"ITEMS": ["GENRE"]})
    assert code == "InvalidInputException" and "enableMetadataWithRecommendations" in message
    assert _code(rt.get_recommendations, campaignArn=world["up2"], userId="u1",
                 metadataColumns={"ITEMS": ["COLOUR"]})[0] == "InvalidInputException"


# ---------------------------------------------------------------- real time (§7)

REALTIME = [("up2", "campaignArn", "group"), ("up", "campaignArn", "group"), ("top", "recommenderArn", "vod")]
NOT_REALTIME = [("pop", "campaignArn", "group")]


def _horror_clicks(k=6):
    return [f"i{i}" for i in range(N_ITEMS) if genre_of(i) == "Horror"][:k]


@pytest.mark.parametrize("name, key, group", REALTIME)
def test_a_click_changes_the_next_recommendations_of_realtime_recipes(rt, world, name, key, group):
    user = f"fresh-{name}"
    before = _ids(rt.get_recommendations(**{key: world[name]}, userId=user, numResults=10))
    stream(world[group], user, _horror_clicks(), "Watch" if group == "vod" else "click")
    after = _ids(rt.get_recommendations(**{key: world[name]}, userId=user, numResults=10))
    assert after != before
    assert sum(genre_of(int(i[1:])) == "Horror" for i in after) > sum(genre_of(int(i[1:])) == "Horror" for i in before)


def test_a_click_changes_the_next_ranking(rt, world):
    inputs = [f"i{k}" for k in range(12)]
    before = rt.get_personalized_ranking(campaignArn=world["pr"], userId="fresh-pr", inputList=inputs)
    stream(world["group"], "fresh-pr", _horror_clicks())
    after = rt.get_personalized_ranking(campaignArn=world["pr"], userId="fresh-pr", inputList=inputs)
    top = after["personalizedRanking"][0]["itemId"]
    assert before["personalizedRanking"] != after["personalizedRanking"] and genre_of(int(top[1:])) == "Horror"


@pytest.mark.parametrize("name, key, group", NOT_REALTIME)
def test_recipes_that_do_not_react_in_real_time_answer_as_before(rt, world, name, key, group):
    user = "u7"
    before = rt.get_recommendations(**{key: world[name]}, userId=user, numResults=10)["itemList"]
    stream(world[group], user, _horror_clicks(), "Watch" if group == "vod" else "click", at=1_800_000_000)
    assert rt.get_recommendations(**{key: world[name]}, userId=user, numResults=10)["itemList"] == before


def test_related_items_do_not_react_to_new_events(rt, world):
    before = _ids(rt.get_recommendations(campaignArn=world["sims"], itemId="i2", userId="u8", numResults=10))
    stream(world["group"], "u8", _horror_clicks(), at=1_800_000_100)
    assert _ids(rt.get_recommendations(campaignArn=world["sims"], itemId="i2", userId="u8", numResults=10)) == before


def test_an_interactions_filter_counts_anonymous_session_events_and_then_the_linked_user(rt, personalize, world):
    """The events of a sessionId without userId are the session's history for the models and for filters
    alike; once an event carries both IDs they are the user's (spec 40 §5)."""
    flt = make_filter(personalize, world, "no-clicked-anon", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")')
    ds = group_data(world["group"]).dataset("INTERACTIONS")
    ds.put_records([{"USER_ID": None, "ITEM_ID": "i10", "TIMESTAMP": 1_700_100_000, "EVENT_TYPE": "click"}],
                   sessions=["anon-s1"])

    def ranked(user):
        answer = rt.get_personalized_ranking(campaignArn=world["pr"], userId=user, inputList=["i10", "i11", "i12"],
                                             filterArn=flt)
        return [i["itemId"] for i in answer["personalizedRanking"]]

    assert "i10" not in ranked("anon-s1") and len(ranked("anon-s1")) == 2
    assert "i10" in ranked("linked-user")                   # not linked yet: not this user's click
    ds.put_records([{"USER_ID": "linked-user", "ITEM_ID": "i11", "TIMESTAMP": 1_700_100_001, "EVENT_TYPE": "click"}],
                   sessions=["anon-s1"])
    assert ranked("linked-user") == ["i12"]                 # the session's i10 and the user's own i11
