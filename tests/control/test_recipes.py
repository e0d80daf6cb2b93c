"""Tests for the recipe catalogue (localpersonalize/control/recipes.py).

Expected values come from spec 20 (/work/shared/spec/20-recipes-and-use-cases.md) and the
Korean developer guide lines cited in the module.
"""

from __future__ import annotations

import json

import pytest

from localpersonalize.control import recipes as R
from localpersonalize.control.recipes import (
    ALL_RECIPES,
    LEGACY_RECIPES,
    algorithm_by_arn,
    feature_transformation_by_arn,
    list_recipes,
    recipe_by_arn,
    recipe_by_name,
)

CUSTOM_NAMES = [
    "aws-user-personalization-v2",
    "aws-user-personalization",
    "aws-personalized-ranking-v2",
    "aws-personalized-ranking",
    "aws-trending-now",
    "aws-popularity-count",
    "aws-similar-items",
    "aws-sims",
    "aws-item-affinity",
    "aws-item-attribute-affinity",
    "aws-next-best-action",
]
VOD_NAMES = [
    "aws-vod-because-you-watched-x",
    "aws-vod-more-like-x",
    "aws-vod-most-popular",
    "aws-vod-trending-now",
    "aws-vod-top-picks",
]
ECOMM_NAMES = [
    "aws-ecomm-popular-items-by-views",
    "aws-ecomm-popular-items-by-purchases",
    "aws-ecomm-frequently-bought-together",
    "aws-ecomm-customers-who-viewed-x-also-viewed",
    "aws-ecomm-recommended-for-you",
]


def r(name: str) -> R.Recipe:
    recipe = recipe_by_name(name)
    assert recipe is not None, name
    return recipe


# --- catalogue contents and order ------------------------------------------------


def test_catalogue_order_custom_then_vod_then_ecommerce():
    assert [x.name for x in ALL_RECIPES] == CUSTOM_NAMES + VOD_NAMES + ECOMM_NAMES


def test_names_and_arns_unique_and_well_formed():
    names = [x.name for x in ALL_RECIPES + LEGACY_RECIPES]
    assert len(names) == len(set(names))
    for x in ALL_RECIPES + LEGACY_RECIPES:
        assert x.arn == f"arn:aws:personalize:::recipe/{x.name}"
        assert x.recipe_type in R.RECIPE_TYPES
        assert x.engine in R.ENGINES
        assert x.status == "ACTIVE"
        assert x.description


def test_vod_top_picks_arn_and_domain():
    x = recipe_by_arn("arn:aws:personalize:::recipe/aws-vod-top-picks")
    assert x is not None
    assert x.name == "aws-vod-top-picks"
    assert x.domain == "VIDEO_ON_DEMAND"
    assert x.recipe_type == "USER_PERSONALIZATION"
    assert x.engine == "user_personalization"
    assert x.input.user_id == R.REQUIRED and x.input.item_id == R.NOT_USED
    assert x.excludes_seen_event_types == ("Watch",)
    assert x.requires.recommended_event_types == ("Click", "Watch")
    assert x.requires.required_event_types == ()
    assert x.requires.optional_datasets == ("ITEMS", "USERS")
    assert x.realtime and x.exploration and x.exploration_configurable and x.auto_updates
    assert x.default_item_exploration_config == {
        "explorationWeight": "0.3",
        "explorationItemAgeCutOff": "30",
    }
    assert x.returns_scores is False


@pytest.mark.parametrize(
    "name,arn,algorithm_arn,ft_arn,recipe_type",
    [
        ("aws-user-personalization-v2", "arn:aws:personalize:::recipe/aws-user-personalization-v2",
         "arn:aws:personalize:::algorithm/aws-user-personalization-v2", None, "USER_PERSONALIZATION"),
        ("aws-user-personalization", "arn:aws:personalize:::recipe/aws-user-personalization",
         "arn:aws:personalize:::algorithm/aws-user-personalization", None, "USER_PERSONALIZATION"),
        ("aws-personalized-ranking-v2", "arn:aws:personalize:::recipe/aws-personalized-ranking-v2",
         "arn:aws:personalize:::algorithm/aws-personalized-ranking-v2", None, "PERSONALIZED_RANKING"),
        ("aws-personalized-ranking", "arn:aws:personalize:::recipe/aws-personalized-ranking",
         "arn:aws:personalize:::algorithm/aws-personalized-ranking",
         "arn:aws:personalize:::feature-transformation/JSON-percentile-filtering", "PERSONALIZED_RANKING"),
        ("aws-trending-now", "arn:aws:personalize:::recipe/aws-trending-now",
         "arn:aws:personalize:::algorithm/aws-trending-now-custom", None, "POPULAR_ITEMS"),
        ("aws-popularity-count", "arn:aws:personalize:::recipe/aws-popularity-count",
         "arn:aws:personalize:::algorithm/aws-popularity-count",
         "arn:aws:personalize:::feature-transformation/sims", "USER_PERSONALIZATION"),
        ("aws-similar-items", "arn:aws:personalize:::recipe/aws-similar-items",
         "arn:aws:personalize:::algorithm/aws-similar-items", None, "RELATED_ITEMS"),
        ("aws-sims", "arn:aws:personalize:::recipe/aws-sims",
         "arn:aws:personalize:::algorithm/aws-sims",
         "arn:aws:personalize:::feature-transformation/sims", "RELATED_ITEMS"),
        ("aws-item-affinity", "arn:aws:personalize:::recipe/aws-item-affinity",
         "arn:aws:personalize:::algorithm/aws-item-affinity",
         "arn:aws:personalize:::feature-transformation/item-affinity", "USER_SEGMENTATION"),
        ("aws-item-attribute-affinity", "arn:aws:personalize:::recipe/aws-item-attribute-affinity",
         "arn:aws:personalize:::algorithm/aws-item-attribute-affinity",
         "arn:aws:personalize:::feature-transformation/item-attribute-affinity", "USER_SEGMENTATION"),
        ("aws-next-best-action", "arn:aws:personalize:::recipe/aws-next-best-action",
         "arn:aws:personalize:::algorithm/aws-next-best-action", None, "PERSONALIZED_ACTIONS"),
    ],
)
def test_custom_recipe_arns_and_types(name, arn, algorithm_arn, ft_arn, recipe_type):
    x = recipe_by_arn(arn)
    assert x is not None and x.name == name
    assert x.domain is None
    assert x.algorithm_arn == algorithm_arn
    assert x.feature_transformation_arn == ft_arn
    assert x.recipe_type == recipe_type


@pytest.mark.parametrize(
    "name,domain,engine,user_id,item_id,required_events,excludes",
    [
        ("aws-vod-because-you-watched-x", "VIDEO_ON_DEMAND", "sims", "REQUIRED", "REQUIRED",
         (("Watch", 1000),), ("Watch",)),
        ("aws-vod-more-like-x", "VIDEO_ON_DEMAND", "similar_items", "REQUIRED", "REQUIRED", (), ("Watch",)),
        ("aws-vod-most-popular", "VIDEO_ON_DEMAND", "popularity", "REQUIRED", "NOT_USED",
         (("Watch", 1000),), ()),
        ("aws-vod-trending-now", "VIDEO_ON_DEMAND", "trending", "FILTER_ONLY", "NOT_USED", (), ()),
        ("aws-vod-top-picks", "VIDEO_ON_DEMAND", "user_personalization", "REQUIRED", "NOT_USED", (), ("Watch",)),
        ("aws-ecomm-popular-items-by-views", "ECOMMERCE", "popularity", "REQUIRED", "NOT_USED",
         (("View", 1000),), ()),
        ("aws-ecomm-popular-items-by-purchases", "ECOMMERCE", "popularity", "REQUIRED", "NOT_USED",
         (("Purchase", 1000),), ()),
        ("aws-ecomm-frequently-bought-together", "ECOMMERCE", "sims", "FILTER_ONLY", "REQUIRED",
         (("Purchase", 1000),), ()),
        ("aws-ecomm-customers-who-viewed-x-also-viewed", "ECOMMERCE", "sims", "REQUIRED", "REQUIRED",
         (("View", 1000),), ("Purchase",)),
        ("aws-ecomm-recommended-for-you", "ECOMMERCE", "user_personalization", "REQUIRED", "NOT_USED",
         (), ("Purchase",)),
    ],
)
def test_domain_use_cases(name, domain, engine, user_id, item_id, required_events, excludes):
    x = recipe_by_arn(f"arn:aws:personalize:::recipe/{name}")
    assert x is not None
    assert x.domain == domain and x.is_domain_use_case
    assert x.engine == engine
    assert x.input.api == "GetRecommendations"
    assert (x.input.user_id, x.input.item_id) == (user_id, item_id)
    assert x.requires.required_event_types == required_events
    assert x.excludes_seen_event_types == excludes
    assert x.returns_scores is False
    assert x.hyperparameters == ()
    assert x.batch_inference is False and x.batch_segment is False


def test_more_like_x_needs_items_dataset():
    assert r("aws-vod-more-like-x").requires.required_datasets == ("INTERACTIONS", "ITEMS")
    assert r("aws-vod-more-like-x").requires.recommended_event_types == ("Watch", "Click")
    assert r("aws-vod-because-you-watched-x").requires.required_datasets == ("INTERACTIONS",)


def test_common_minimums():
    for x in ALL_RECIPES:
        assert x.requires.min_interactions == 1000
        assert x.requires.min_users_with_two_interactions == 25
        assert "INTERACTIONS" in x.requires.required_datasets
    assert r("aws-user-personalization-v2").requires.max_items == 5_000_000
    assert r("aws-personalized-ranking-v2").requires.max_items == 5_000_000
    assert r("aws-user-personalization").requires.max_items == 750_000
    nba = r("aws-next-best-action").requires
    assert nba.required_datasets == ("ACTIONS", "INTERACTIONS")
    assert "ACTION_INTERACTIONS" in nba.optional_datasets and nba.max_actions == 1000
    iaa = r("aws-item-attribute-affinity").requires
    assert iaa.required_datasets == ("INTERACTIONS", "ITEMS") and iaa.items_metadata_column_required


# --- scores, realtime, routing ----------------------------------------------------


def test_returns_scores_only_for_up_pr_nba():
    scored = {x.name for x in ALL_RECIPES if x.returns_scores}
    assert scored == {
        "aws-user-personalization-v2",
        "aws-user-personalization",
        "aws-personalized-ranking-v2",
        "aws-personalized-ranking",
        "aws-next-best-action",
    }


def test_realtime_recipes():
    realtime = {x.name for x in ALL_RECIPES if x.realtime}
    assert realtime == {
        "aws-ecomm-recommended-for-you",
        "aws-vod-top-picks",
        "aws-user-personalization-v2",
        "aws-user-personalization",
        "aws-personalized-ranking-v2",
        "aws-personalized-ranking",
        "aws-next-best-action",
    }


def test_auto_update_and_exploration_recipes():
    five = {
        "aws-ecomm-recommended-for-you",
        "aws-vod-top-picks",
        "aws-user-personalization-v2",
        "aws-user-personalization",
        "aws-next-best-action",
    }
    assert {x.name for x in ALL_RECIPES if x.auto_updates} == five
    assert {x.name for x in ALL_RECIPES if x.exploration} == five
    # UP-v2 manages exploration internally: no itemExplorationConfig
    assert {x.name for x in ALL_RECIPES if x.exploration_configurable} == five - {"aws-user-personalization-v2"}
    assert r("aws-user-personalization-v2").default_item_exploration_config is None


def test_runtime_routing():
    assert r("aws-personalized-ranking").input == R.RuntimeInput(
        api="GetPersonalizedRanking", user_id="REQUIRED", item_id="NOT_USED", input_list="REQUIRED"
    )
    assert r("aws-next-best-action").input.api == "GetActionRecommendations"
    assert r("aws-item-affinity").input.api is None and r("aws-item-affinity").batch_segment
    assert r("aws-item-attribute-affinity").batch_segment
    assert r("aws-sims").input.item_id == "REQUIRED" and r("aws-sims").input.user_id == "FILTER_ONLY"
    assert r("aws-trending-now").input.user_id == "FILTER_ONLY"
    assert r("aws-trending-now").batch_inference is False
    assert r("aws-next-best-action").batch_inference is False
    assert r("aws-user-personalization").batch_inference is True
    assert [x.name for x in ALL_RECIPES if x.theme_generation] == ["aws-similar-items"]
    assert [x.name for x in ALL_RECIPES if x.batch_segment] == ["aws-item-affinity", "aws-item-attribute-affinity"]


def test_training_mode_update_and_hpo_flags():
    assert [x.name for x in ALL_RECIPES if x.update_training_mode] == ["aws-user-personalization"]
    assert r("aws-hrnn-coldstart").update_training_mode
    assert {x.name for x in ALL_RECIPES if x.automatic_hpo} == {
        "aws-user-personalization-v2",
        "aws-personalized-ranking-v2",
    }
    assert r("aws-user-personalization").supports_hpo
    assert r("aws-sims").supports_hpo
    assert not r("aws-next-best-action").supports_hpo
    assert not r("aws-item-affinity").supports_hpo
    assert not r("aws-trending-now").supports_hpo


# --- hyperparameters --------------------------------------------------------------


def test_user_personalization_defaults():
    up = r("aws-user-personalization")
    assert up.default_hyperparameters == {"hidden_dimension": "149", "bptt": "32", "recency_mask": "true"}
    assert up.default_featurization_parameters == {
        "min_user_history_length_percentile": "0.0",
        "max_user_history_length_percentile": "0.99",
    }
    hd = up.hyperparameter("hidden_dimension")
    assert (hd.kind, hd.min_value, hd.max_value, hd.is_tunable) == ("integer", 32, 256, True)
    assert up.hyperparameter("exploration_weight").default == "0.3"
    assert up.hyperparameter("exploration_item_age_cut_off").default == "30.0"
    # fresh dicts: mutating a returned dict does not change the catalogue
    up.default_hyperparameters["hidden_dimension"] = "999"
    assert up.default_hyperparameters["hidden_dimension"] == "149"


def test_other_defaults():
    assert r("aws-user-personalization-v2").default_hyperparameters == {"apply_recency_bias": "true"}
    assert r("aws-personalized-ranking-v2").default_hyperparameters == {"apply_recency_bias": "true"}
    assert r("aws-personalized-ranking").default_hyperparameters == {
        "hidden_dimension": "149", "bptt": "32", "recency_mask": "true",
    }
    assert r("aws-sims").default_hyperparameters == {"popularity_discount_factor": "0.5", "min_cointeraction_count": "3"}
    assert r("aws-sims").default_featurization_parameters == {
        "min_user_history_length_percentile": "0.005",
        "max_user_history_length_percentile": "0.995",
        "min_item_interaction_count_percentile": "0.01",
        "max_item_interaction_count_percentile": "0.9",
    }
    assert r("aws-similar-items").default_hyperparameters == {
        "popularity_discount_factor": "0.0", "item_id_hidden_dim": "100", "item_metadata_hidden_dim": "100",
    }
    assert r("aws-trending-now").default_featurization_parameters == {"trend_discovery_frequency": "2 hours"}
    assert r("aws-trending-now").default_hyperparameters == {}
    assert r("aws-next-best-action").default_featurization_parameters == {"action_optimization_period": "14"}
    assert r("aws-item-affinity").default_hyperparameters == {"hidden_dimension": "149"}
    assert r("aws-item-attribute-affinity").default_hyperparameters == {"hidden_dimension": "149"}
    assert r("aws-popularity-count").hyperparameters == ()
    assert r("aws-hrnn").default_hyperparameters["hidden_dimension"] == "43"
    assert r("aws-hrnn-coldstart").default_hyperparameters["hidden_dimension"] == "149"
    assert r("aws-hrnn-coldstart").default_featurization_parameters["cold_start_relative_from"] == "latestItem"


def test_hyperparameter_ranges_shape():
    ranges = r("aws-user-personalization").hyperparameter_ranges()
    assert ranges == {
        "integerHyperParameterRanges": [
            {"name": "hidden_dimension", "minValue": 32, "maxValue": 256, "isTunable": True},
            {"name": "bptt", "minValue": 2, "maxValue": 32, "isTunable": True},
        ],
        "continuousHyperParameterRanges": [],
        "categoricalHyperParameterRanges": [
            {"name": "recency_mask", "values": ["true", "false"], "isTunable": True},
        ],
    }
    sims = r("aws-sims").hyperparameter_ranges()
    assert sims["continuousHyperParameterRanges"] == [
        {"name": "popularity_discount_factor", "minValue": 0.0, "maxValue": 1.0, "isTunable": True}
    ]
    assert r("aws-item-affinity").hyperparameter_ranges()["integerHyperParameterRanges"] == [
        {"name": "hidden_dimension", "minValue": 32, "maxValue": 256, "isTunable": False}
    ]


def test_validate_parameters():
    up = r("aws-user-personalization")
    assert up.validate_parameters({"hidden_dimension": "55", "recency_mask": "False"}) == []
    assert up.validate_parameters({"hidden_dimension": "300"})  # above 256
    assert up.validate_parameters({"hidden_dimension": "1.5"})  # not an integer
    assert up.validate_parameters({"bptt": "1"})  # below 2
    assert up.validate_parameters({"recency_mask": "maybe"})
    assert up.validate_parameters({"no_such_param": "1"})
    assert up.validate_parameters(None, {"max_user_history_length_percentile": "0.95"}) == []
    assert up.validate_parameters(None, {"max_user_history_length_percentile": "1.5"})
    tn = r("aws-trending-now")
    for ok in ("30 minutes", "1 hour", "2 hours", "3 hours", "1 day"):
        assert tn.validate_parameters(None, {"trend_discovery_frequency": ok}) == []
    assert tn.validate_parameters(None, {"trend_discovery_frequency": "5 hours"})
    nba = r("aws-next-best-action")
    assert nba.validate_parameters(None, {"action_optimization_period": "28"}) == []
    assert nba.validate_parameters(None, {"action_optimization_period": "6"})
    si = r("aws-similar-items")
    assert si.validate_parameters({"item_id_hidden_dim": "50"})  # HPO only
    assert si.validate_parameters({"item_id_hidden_dim": "50"}, perform_hpo=True) == []
    assert r("aws-sims").validate_parameters({"popularity_discount_factor": "nan"})


def test_merge_parameters():
    algo, feat = r("aws-user-personalization-v2").merge_parameters({"apply_recency_bias": "false"})
    assert algo == {"apply_recency_bias": "false"} and feat == {}
    algo, feat = r("aws-trending-now").merge_parameters(None, {"trend_discovery_frequency": "1 hour"})
    assert algo == {} and feat == {"trend_discovery_frequency": "1 hour"}
    algo, feat = r("aws-sims").merge_parameters({"min_cointeraction_count": "5"})
    assert algo == {"popularity_discount_factor": "0.5", "min_cointeraction_count": "5"}
    assert feat["max_item_interaction_count_percentile"] == "0.9"


def test_engine_parameters_for_domain_use_cases():
    byw = r("aws-vod-because-you-watched-x")
    assert byw.training_event_type == "Watch"
    assert byw.engine_parameters["popularity_discount_factor"] == "0.5"  # from aws-sims
    assert r("aws-vod-trending-now").engine_parameters == {"trend_discovery_frequency": "2 hours"}
    assert r("aws-ecomm-popular-items-by-purchases").training_event_type == "Purchase"
    assert r("aws-ecomm-customers-who-viewed-x-also-viewed").training_event_type == "View"


# --- algorithms and feature transformations ----------------------------------------


def test_every_algorithm_arn_resolves():
    for x in ALL_RECIPES + LEGACY_RECIPES:
        algo = algorithm_by_arn(x.algorithm_arn)
        assert algo is not None, x.name
        assert algo["algorithmArn"] == x.algorithm_arn
        assert algo["defaultHyperParameters"] == x.default_hyperparameters
        assert algo["algorithmImage"]["dockerURI"]
        assert isinstance(algo["creationDateTime"], float)
        json.dumps(algo)


def test_every_feature_transformation_arn_resolves():
    for x in ALL_RECIPES + LEGACY_RECIPES:
        if x.feature_transformation_arn:
            ft = feature_transformation_by_arn(x.feature_transformation_arn)
            assert ft is not None, x.name
            assert ft["featureTransformationArn"] == x.feature_transformation_arn
            assert ft["status"] == "ACTIVE"
            # the recipe's featurization defaults match its transformation's when it has any
            if x.default_featurization_parameters:
                assert ft["defaultParameters"] == x.default_featurization_parameters, x.name


def test_algorithm_shape_for_trending_now():
    algo = algorithm_by_arn("arn:aws:personalize:::algorithm/aws-trending-now-custom")
    assert algo["name"] == "aws-trending-now-custom"
    assert set(algo) == {
        "name", "algorithmArn", "algorithmImage", "defaultHyperParameters",
        "defaultHyperParameterRanges", "defaultResourceConfig", "trainingInputMode",
        "creationDateTime", "lastUpdatedDateTime",
    }


def test_feature_transformation_sims():
    ft = feature_transformation_by_arn("arn:aws:personalize:::feature-transformation/sims")
    assert ft["name"] == "sims"
    assert ft["defaultParameters"]["min_item_interaction_count_percentile"] == "0.01"
    ft["defaultParameters"]["x"] = "1"
    assert "x" not in feature_transformation_by_arn("arn:aws:personalize:::feature-transformation/sims")["defaultParameters"]


def test_unknown_arns():
    assert recipe_by_arn("arn:aws:personalize:::recipe/aws-nope") is None
    assert recipe_by_arn("") is None and recipe_by_arn(None) is None
    # the guide's two-colon typo is not accepted
    assert recipe_by_arn("arn:aws:personalize::recipe/aws-user-personalization-v2") is None
    assert algorithm_by_arn("arn:aws:personalize:::algorithm/nope") is None
    assert algorithm_by_arn(None) is None
    assert feature_transformation_by_arn("arn:aws:personalize:::feature-transformation/nope") is None
    assert feature_transformation_by_arn("arn:aws:personalize:::algorithm/aws-sims") is None


# --- ListRecipes / DescribeRecipe shapes ------------------------------------------------


def test_list_recipes_filters():
    assert [x.name for x in list_recipes()] == CUSTOM_NAMES + VOD_NAMES + ECOMM_NAMES
    assert list_recipes("SERVICE") == list_recipes(None)
    assert [x.name for x in list_recipes(domain="VIDEO_ON_DEMAND")] == VOD_NAMES
    assert [x.name for x in list_recipes("SERVICE", "ECOMMERCE")] == ECOMM_NAMES
    with pytest.raises(ValueError):
        list_recipes("CUSTOMER")
    with pytest.raises(ValueError):
        list_recipes(domain="RETAIL")


def test_legacy_hrnn_hidden_from_listing():
    hrnn_arn = "arn:aws:personalize:::recipe/aws-hrnn"
    assert all(x.name not in {"aws-hrnn", "aws-hrnn-metadata", "aws-hrnn-coldstart"} for x in list_recipes())
    assert recipe_by_arn(hrnn_arn) is None
    legacy = recipe_by_arn(hrnn_arn, include_legacy=True)
    assert legacy is not None and legacy.legacy
    assert legacy.feature_transformation_arn == "arn:aws:personalize:::feature-transformation/JSON-percentile-filtering"
    assert r("aws-hrnn-metadata").feature_transformation_arn.endswith("/featurize_metadata")
    assert r("aws-hrnn-coldstart").feature_transformation_arn.endswith("/featurize_coldstart")


def test_describe_recipe_shape():
    d = r("aws-sims").to_api()
    assert d == {
        "name": "aws-sims",
        "recipeArn": "arn:aws:personalize:::recipe/aws-sims",
        "algorithmArn": "arn:aws:personalize:::algorithm/aws-sims",
        "featureTransformationArn": "arn:aws:personalize:::feature-transformation/sims",
        "status": "ACTIVE",
        "description": r("aws-sims").description,
        "creationDateTime": R.CATALOGUE_TIMESTAMP,
        "recipeType": "RELATED_ITEMS",
        "lastUpdatedDateTime": R.CATALOGUE_TIMESTAMP,
    }
    assert "featureTransformationArn" not in r("aws-user-personalization-v2").to_api()


def test_recipe_summary_shape():
    s = r("aws-ecomm-recommended-for-you").to_api_summary()
    assert s["domain"] == "ECOMMERCE"
    assert s["recipeArn"] == "arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you"
    assert set(s) == {"name", "recipeArn", "status", "creationDateTime", "lastUpdatedDateTime", "domain"}
    assert "domain" not in r("aws-sims").to_api_summary()


def test_shapes_match_botocore_members():
    """Every key we emit is a member of the botocore output shape."""
    import pathlib

    model_path = (
        pathlib.Path(R.__file__).resolve().parents[1]
        / "botocore_models" / "personalize" / "2018-05-22" / "service-2.json"
    )
    shapes = json.loads(model_path.read_text())["shapes"]

    def members(name):
        return set(shapes[name]["members"])

    for x in ALL_RECIPES:
        assert set(x.to_api()) <= members("Recipe")
        assert set(x.to_api_summary()) <= members("RecipeSummary")
        algo = algorithm_by_arn(x.algorithm_arn)
        assert set(algo) <= members("Algorithm")
        assert set(algo["defaultHyperParameterRanges"]) <= members("DefaultHyperParameterRanges")
        for rng in algo["defaultHyperParameterRanges"]["integerHyperParameterRanges"]:
            assert set(rng) <= members("DefaultIntegerHyperParameterRange")
        for rng in algo["defaultHyperParameterRanges"]["continuousHyperParameterRanges"]:
            assert set(rng) <= members("DefaultContinuousHyperParameterRange")
        for rng in algo["defaultHyperParameterRanges"]["categoricalHyperParameterRanges"]:
            assert set(rng) <= members("DefaultCategoricalHyperParameterRange")
    for arn in R.all_feature_transformation_arns():
        assert set(feature_transformation_by_arn(arn)) <= members("FeatureTransformation")


def test_recipes_are_hashable_and_frozen():
    x = r("aws-sims")
    assert hash(x) == hash(r("aws-sims"))
    with pytest.raises(Exception):
        x.name = "other"  # type: ignore[misc]
