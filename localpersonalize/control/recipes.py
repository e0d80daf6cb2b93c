"""The fixed recipe catalogue of localpersonalize (plain data, no HTTP).

Everything the control plane needs to answer ``ListRecipes``, ``DescribeRecipe``,
``DescribeAlgorithm`` and ``DescribeFeatureTransformation``, and everything the
solution / recommender / runtime code needs to validate requests and pick an engine.

Sources, cited per fact below:

* ``spec 20 §X`` = ``/work/shared/spec/20-recipes-and-use-cases.md`` (section ``X``);
  ``spec 10`` / ``spec 30`` = the sibling data and workflow spec files.
* ``guide Lnnnn`` = line of the Korean developer guide
  ``/work/shared/seeds/personalize-developer-guide.ko.txt``.
* ``botocore`` = ``localpersonalize/botocore_models/personalize/2018-05-22/service-2.json``.
* ``EMULATOR CHOICE`` = not documented anywhere we could read; chosen here so the
  emulator is self-consistent.  Every such value is listed in ``UNCERTAIN_FACTS``.

Public API
----------
``Recipe``, ``HyperParameter``, ``Requirements``, ``RuntimeInput`` (frozen dataclasses);
``ALL_RECIPES`` (listed recipes, ListRecipes order), ``LEGACY_RECIPES`` (HRNN family,
not listed); ``recipe_by_arn``, ``recipe_by_name``, ``list_recipes``,
``algorithm_by_arn``, ``feature_transformation_by_arn``; constants for recipe types,
domains, dataset types, engines and runtime APIs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"
ALGORITHM_ARN_PREFIX = "arn:aws:personalize:::algorithm/"
FEATURE_TRANSFORMATION_ARN_PREFIX = "arn:aws:personalize:::feature-transformation/"

#: Recipe types, spelled as the API returns them in ``recipeType`` (spec 20 §C, guide L6430-L6455).
USER_PERSONALIZATION = "USER_PERSONALIZATION"
PERSONALIZED_RANKING = "PERSONALIZED_RANKING"
RELATED_ITEMS = "RELATED_ITEMS"
POPULAR_ITEMS = "POPULAR_ITEMS"
USER_SEGMENTATION = "USER_SEGMENTATION"
PERSONALIZED_ACTIONS = "PERSONALIZED_ACTIONS"
RECIPE_TYPES = (
    USER_PERSONALIZATION,
    PERSONALIZED_RANKING,
    RELATED_ITEMS,
    POPULAR_ITEMS,
    USER_SEGMENTATION,
    PERSONALIZED_ACTIONS,
)

#: Domains (botocore ``Domain`` enum).
ECOMMERCE = "ECOMMERCE"
VIDEO_ON_DEMAND = "VIDEO_ON_DEMAND"
DOMAINS = (ECOMMERCE, VIDEO_ON_DEMAND)

#: ``ListRecipes.recipeProvider`` (botocore ``RecipeProvider`` enum; "The default is SERVICE").
RECIPE_PROVIDER_SERVICE = "SERVICE"

#: Canonical dataset types (spec 10 §1: compare case-insensitively, store upper case).
INTERACTIONS = "INTERACTIONS"
ITEMS = "ITEMS"
USERS = "USERS"
ACTIONS = "ACTIONS"
ACTION_INTERACTIONS = "ACTION_INTERACTIONS"

#: Values of ``RuntimeInput.user_id`` / ``item_id`` / ``input_list``.
REQUIRED = "REQUIRED"
#: "only required when a filter needs it" (e.g. a filter on ``CurrentUser``) — guide L6443-L6450.
FILTER_ONLY = "FILTER_ONLY"
NOT_USED = "NOT_USED"

#: Runtime operations (spec 20 §C).
GET_RECOMMENDATIONS = "GetRecommendations"
GET_PERSONALIZED_RANKING = "GetPersonalizedRanking"
GET_ACTION_RECOMMENDATIONS = "GetActionRecommendations"

#: Engine families the catalogue maps to (see spec 70 §0 for the engine behind each).
ENGINE_USER_PERSONALIZATION = "user_personalization"
ENGINE_PERSONALIZED_RANKING = "personalized_ranking"
ENGINE_SIMS = "sims"
ENGINE_SIMILAR_ITEMS = "similar_items"
ENGINE_POPULARITY = "popularity"
ENGINE_TRENDING = "trending"
ENGINE_ITEM_AFFINITY = "item_affinity"
ENGINE_ITEM_ATTRIBUTE_AFFINITY = "item_attribute_affinity"
ENGINE_NEXT_BEST_ACTION = "next_best_action"
ENGINES = (
    ENGINE_USER_PERSONALIZATION,
    ENGINE_PERSONALIZED_RANKING,
    ENGINE_SIMS,
    ENGINE_SIMILAR_ITEMS,
    ENGINE_POPULARITY,
    ENGINE_TRENDING,
    ENGINE_ITEM_AFFINITY,
    ENGINE_ITEM_ATTRIBUTE_AFFINITY,
    ENGINE_NEXT_BEST_ACTION,
)

#: Hyperparameter groups. "algorithm" → ``solutionConfig.algorithmHyperParameters`` and
#: ``Algorithm.defaultHyperParameters``; "featurization" → ``featureTransformationParameters``
#: and ``FeatureTransformation.defaultParameters``; "campaign" → documented in the recipe's
#: table but configured through ``itemExplorationConfig`` (guide L6633-L6637).
GROUP_ALGORITHM = "algorithm"
GROUP_FEATURIZATION = "featurization"
GROUP_CAMPAIGN = "campaign"

KIND_INTEGER = "integer"
KIND_CONTINUOUS = "continuous"
KIND_CATEGORICAL = "categorical"

#: Fixed creation / last-updated timestamp (epoch seconds) for every catalogue object:
#: 2019-06-10T00:00:00Z.  EMULATOR CHOICE (real AWS values are not documented).
CATALOGUE_TIMESTAMP = 1560124800.0

#: Minimum data common to every recipe and use case: ≥1,000 interactions and ≥25 unique
#: users with ≥2 interactions each (spec 10 §2, guide L4589, L6144-L6147, L6268-L6271).
MIN_INTERACTIONS = 1000
MIN_USERS_WITH_TWO_INTERACTIONS = 25
#: Items considered in training: 750,000, or 5,000,000 for the -v2 recipes (spec 10 §2, guide L4775-L4779).
MAX_ITEMS = 750_000
MAX_ITEMS_V2 = 5_000_000
#: Actions considered by Next-Best-Action (spec 10 §2, guide L4858).
MAX_ACTIONS = 1000
#: Domain auto-filters look at the latest ≤100 interactions per user per event type (guide L6165).
SEEN_FILTER_MAX_INTERACTIONS_PER_EVENT_TYPE = 100
#: Automatic updates run every 2 hours (spec 20 §B.3, guide L6092-L6120).
AUTO_UPDATE_INTERVAL_SECONDS = 2 * 3600

#: Default ``itemExplorationConfig`` (spec 20 §B.2, guide L6249-L6252, L6369-L6372, L6634-L6637): weight 0.3 in
#: [0, 1], item-age cut-off 30 days (minimum 1).
DEFAULT_ITEM_EXPLORATION_CONFIG: Mapping[str, str] = {
    "explorationWeight": "0.3",
    "explorationItemAgeCutOff": "30",
}

_TRUE_FALSE = ("true", "false")


# ---------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HyperParameter:
    """One documented hyperparameter of a recipe.

    ``default`` is the string the API echoes (hyperparameter values always travel as
    strings, spec 20 §D).  ``min_value`` / ``max_value`` are inclusive; ``None`` means
    unbounded on that side.  ``values`` lists the allowed values of a categorical one
    (booleans compare case-insensitively: the guide prints ``True`` and ``true``).
    ``hpo_only`` marks parameters the guide says can only be used through HPO with a
    min/max range (Similar-Items ``item_id_hidden_dim`` / ``item_metadata_hidden_dim``,
    guide L7322-L7325).
    """

    name: str
    default: str
    kind: str  # KIND_INTEGER | KIND_CONTINUOUS | KIND_CATEGORICAL
    group: str = GROUP_ALGORITHM
    min_value: int | float | None = None
    max_value: int | float | None = None
    values: tuple[str, ...] = ()
    is_tunable: bool = False
    hpo_only: bool = False
    source: str = ""

    def check(self, value: object) -> str | None:
        """Return ``None`` when ``value`` is acceptable, else an error message."""
        text = str(value).strip()
        if self.kind == KIND_CATEGORICAL:
            allowed = {v.lower(): v for v in self.values}
            if text.lower() in allowed:
                return None
            return (
                f"Invalid value '{value}' for hyperparameter {self.name}; "
                f"allowed values: {', '.join(self.values)}"
            )
        try:
            if self.kind == KIND_INTEGER:
                number: float = int(text)
            else:
                number = float(text)
                if not math.isfinite(number):
                    raise ValueError(text)
        except ValueError:
            return f"Invalid value '{value}' for hyperparameter {self.name}; expected {self.kind}"
        if self.min_value is not None and number < self.min_value:
            return f"Value {value} for hyperparameter {self.name} is below the minimum {self.min_value}"
        if self.max_value is not None and number > self.max_value:
            return f"Value {value} for hyperparameter {self.name} is above the maximum {self.max_value}"
        return None

    def to_api_range(self) -> dict:
        """The botocore ``Default{Integer,Continuous,Categorical}HyperParameterRange`` shape."""
        if self.kind == KIND_CATEGORICAL:
            return {"name": self.name, "values": list(self.values), "isTunable": self.is_tunable}
        shape: dict = {"name": self.name}
        if self.min_value is not None:
            shape["minValue"] = int(self.min_value) if self.kind == KIND_INTEGER else float(self.min_value)
        if self.max_value is not None:
            shape["maxValue"] = int(self.max_value) if self.kind == KIND_INTEGER else float(self.max_value)
        shape["isTunable"] = self.is_tunable
        return shape


@dataclass(frozen=True)
class Requirements:
    """What must exist in the dataset group before training (solution version or recommender).

    ``required_datasets`` must exist; ``optional_datasets`` are *used in training* when
    present (every dataset can always be used by filters, spec 10 §3).
    ``required_event_types`` = ((eventType, minimum count), ...) — match event types
    case-insensitively (spec 20 §E: the tutorial loads ``watch`` in lower case).
    ``recommended_event_types`` are advice only, never enforced.
    """

    required_datasets: tuple[str, ...] = (INTERACTIONS,)
    optional_datasets: tuple[str, ...] = ()
    min_interactions: int = MIN_INTERACTIONS
    min_users_with_two_interactions: int = MIN_USERS_WITH_TWO_INTERACTIONS
    required_event_types: tuple[tuple[str, int], ...] = ()
    recommended_event_types: tuple[str, ...] = ()
    #: Items dataset needs ≥1 non-textual, non-reserved metadata column (guide L7563).
    items_metadata_column_required: bool = False
    max_items: int = MAX_ITEMS
    max_actions: int | None = None

    def to_dict(self) -> dict:
        return {
            "requiredDatasets": list(self.required_datasets),
            "optionalDatasets": list(self.optional_datasets),
            "minInteractions": self.min_interactions,
            "minUsersWithTwoInteractions": self.min_users_with_two_interactions,
            "requiredEventTypes": {e: n for e, n in self.required_event_types},
            "recommendedEventTypes": list(self.recommended_event_types),
            "itemsMetadataColumnRequired": self.items_metadata_column_required,
            "maxItems": self.max_items,
            "maxActions": self.max_actions,
        }


@dataclass(frozen=True)
class RuntimeInput:
    """Which runtime operation serves the recipe and what the request must carry.

    ``api`` is ``None`` for USER_SEGMENTATION (batch segment jobs only).  ``user_id`` /
    ``item_id`` / ``input_list`` are ``REQUIRED``, ``FILTER_ONLY`` or ``NOT_USED``
    (spec 20 §C and §E, guide L6430-L6455 and the per-use-case lists L6167-L6352).
    """

    api: str | None
    user_id: str
    item_id: str = NOT_USED
    input_list: str = NOT_USED


@dataclass(frozen=True)
class Recipe:
    """One recipe or domain use case.

    The ``to_api()`` / ``to_api_summary()`` methods return the botocore ``Recipe`` /
    ``RecipeSummary`` shapes.  ``default_hyperparameters`` (algorithm group) and
    ``default_featurization_parameters`` are fresh dicts on every access, so callers
    may mutate them freely.
    """

    name: str
    recipe_type: str
    engine: str
    algorithm_arn: str
    description: str
    source: str
    domain: str | None = None
    feature_transformation_arn: str | None = None
    hyperparameters: tuple[HyperParameter, ...] = ()
    returns_scores: bool = False
    requires: Requirements = Requirements()
    input: RuntimeInput = RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED)
    #: Domain auto-filter: drop items the user already had these event types with
    #: (latest ≤100 per event type), before custom filters (spec 20 §E).
    excludes_seen_event_types: tuple[str, ...] = ()
    #: Events streamed after training change the user's next answer (spec 20 §B.1).
    realtime: bool = False
    #: Mixes in new / low-interaction items (spec 20 §B.2).
    exploration: bool = False
    #: ``itemExplorationConfig`` is accepted on the campaign / recommender / batch job.
    exploration_configurable: bool = False
    #: New items (actions) folded into the newest FULL version every 2 h (spec 20 §B.3).
    auto_updates: bool = False
    #: ``trainingMode=UPDATE`` is allowed (botocore CreateSolutionVersion.trainingMode doc).
    update_training_mode: bool = False
    #: HPO runs automatically every 90 days with auto-training; no performHPO (guide L6538, L11282).
    automatic_hpo: bool = False
    #: Custom batch inference jobs accept the recipe (spec 30 §11.1).
    batch_inference: bool = False
    #: Batch segment jobs accept the recipe (spec 30, USER_SEGMENTATION only).
    batch_segment: bool = False
    #: THEME_GENERATION batch mode (Similar-Items only, spec 20 §A.2).
    theme_generation: bool = False
    #: Domain use cases: the event type the engine trains on (EMULATOR CHOICE derived from
    #: the use-case wording, e.g. "most popular" = most Watch events).  ``None`` = all events.
    training_event_type: str | None = None
    #: Domain use cases: the custom recipe whose defaults feed the engine (EMULATOR CHOICE).
    backing_recipe: str | None = None
    #: Extra fixed engine parameters (e.g. VOD trending-now's 2-hour trend interval).
    engine_overrides: tuple[tuple[str, str], ...] = ()
    #: Legacy HRNN family: documented "for reference only", not listed (guide L6834).
    legacy: bool = False

    # -- identity -----------------------------------------------------------------
    @property
    def arn(self) -> str:
        return RECIPE_ARN_PREFIX + self.name

    @property
    def is_domain_use_case(self) -> bool:
        return self.domain is not None

    @property
    def status(self) -> str:
        return "ACTIVE"

    # -- hyperparameters ----------------------------------------------------------
    def hyperparameter(self, name: str) -> HyperParameter | None:
        for hp in self.hyperparameters:
            if hp.name == name:
                return hp
        return None

    def _defaults(self, group: str) -> dict[str, str]:
        return {hp.name: hp.default for hp in self.hyperparameters if hp.group == group}

    @property
    def default_hyperparameters(self) -> dict[str, str]:
        """Algorithm hyperparameter defaults (→ ``algorithmHyperParameters``)."""
        return self._defaults(GROUP_ALGORITHM)

    @property
    def default_featurization_parameters(self) -> dict[str, str]:
        """Featurization defaults (→ ``featureTransformationParameters``)."""
        return self._defaults(GROUP_FEATURIZATION)

    @property
    def default_item_exploration_config(self) -> dict[str, str] | None:
        """Default ``itemExplorationConfig`` when the recipe accepts one, else ``None``."""
        return dict(DEFAULT_ITEM_EXPLORATION_CONFIG) if self.exploration_configurable else None

    @property
    def supports_hpo(self) -> bool:
        """``performHPO=true`` makes sense: at least one tunable hyperparameter."""
        return any(hp.is_tunable for hp in self.hyperparameters)

    def hyperparameter_ranges(self, groups: Iterable[str] = (GROUP_ALGORITHM,)) -> dict:
        """botocore ``DefaultHyperParameterRanges`` for the given groups."""
        wanted = set(groups)
        out: dict = {
            "integerHyperParameterRanges": [],
            "continuousHyperParameterRanges": [],
            "categoricalHyperParameterRanges": [],
        }
        key = {
            KIND_INTEGER: "integerHyperParameterRanges",
            KIND_CONTINUOUS: "continuousHyperParameterRanges",
            KIND_CATEGORICAL: "categoricalHyperParameterRanges",
        }
        for hp in self.hyperparameters:
            if hp.group in wanted:
                out[key[hp.kind]].append(hp.to_api_range())
        return out

    def validate_parameters(
        self,
        algorithm_hyperparameters: Mapping[str, str] | None = None,
        featurization_parameters: Mapping[str, str] | None = None,
        *,
        perform_hpo: bool = False,
    ) -> list[str]:
        """Range-check user overrides; return error messages (empty list = valid).

        A name is looked up across all groups of this recipe (lenient: the guide is not
        explicit about which map a featurization name must go in).  Unknown names are
        errors.  ``hpo_only`` parameters set directly without ``perform_hpo`` are errors
        (guide L7322-L7325).
        """
        errors: list[str] = []
        for mapping in (algorithm_hyperparameters or {}, featurization_parameters or {}):
            for name, value in mapping.items():
                hp = self.hyperparameter(name)
                if hp is None:
                    errors.append(f"Hyperparameter {name} is not supported by recipe {self.name}")
                    continue
                problem = hp.check(value)
                if problem:
                    errors.append(problem)
                elif hp.hpo_only and not perform_hpo:
                    errors.append(
                        f"Hyperparameter {name} of recipe {self.name} can only be used through HPO"
                    )
        return errors

    def merge_parameters(
        self,
        algorithm_hyperparameters: Mapping[str, str] | None = None,
        featurization_parameters: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Defaults overlaid with user values (all strings), as DescribeSolution echoes them."""
        algo = self.default_hyperparameters
        algo.update({k: str(v) for k, v in (algorithm_hyperparameters or {}).items()})
        feat = self.default_featurization_parameters
        feat.update({k: str(v) for k, v in (featurization_parameters or {}).items()})
        return algo, feat

    @property
    def engine_parameters(self) -> dict[str, str]:
        """All parameters the engine should start from (backing recipe → own → overrides)."""
        params: dict[str, str] = {}
        if self.backing_recipe:
            backing = recipe_by_name(self.backing_recipe)
            if backing is not None:
                params.update(backing.default_hyperparameters)
                params.update(backing.default_featurization_parameters)
        params.update(self.default_hyperparameters)
        params.update(self.default_featurization_parameters)
        params.update(dict(self.engine_overrides))
        return params

    # -- API shapes ------------------------------------------------------------------
    def to_api(self) -> dict:
        """botocore ``Recipe`` shape (DescribeRecipe's ``recipe``)."""
        shape: dict = {
            "name": self.name,
            "recipeArn": self.arn,
            "algorithmArn": self.algorithm_arn,
        }
        if self.feature_transformation_arn:
            shape["featureTransformationArn"] = self.feature_transformation_arn
        shape.update(
            {
                "status": self.status,
                "description": self.description,
                "creationDateTime": CATALOGUE_TIMESTAMP,
                "recipeType": self.recipe_type,
                "lastUpdatedDateTime": CATALOGUE_TIMESTAMP,
            }
        )
        return shape

    def to_api_summary(self) -> dict:
        """botocore ``RecipeSummary`` shape (ListRecipes' ``recipes[]``)."""
        shape: dict = {
            "name": self.name,
            "recipeArn": self.arn,
            "status": self.status,
            "creationDateTime": CATALOGUE_TIMESTAMP,
            "lastUpdatedDateTime": CATALOGUE_TIMESTAMP,
        }
        if self.domain:
            shape["domain"] = self.domain
        return shape


# ---------------------------------------------------------------------------
# Shared hyperparameter definitions
# ---------------------------------------------------------------------------


def _hidden_dimension(default: str, tunable: bool, source: str) -> HyperParameter:
    return HyperParameter(
        "hidden_dimension", default, KIND_INTEGER, min_value=32, max_value=256,
        is_tunable=tunable, source=source,
    )


def _bptt(source: str) -> HyperParameter:
    return HyperParameter(
        "bptt", "32", KIND_INTEGER, min_value=2, max_value=32, is_tunable=True, source=source
    )


def _recency_mask(source: str) -> HyperParameter:
    return HyperParameter(
        "recency_mask", "true", KIND_CATEGORICAL, values=_TRUE_FALSE, is_tunable=True, source=source
    )


def _apply_recency_bias(source: str) -> HyperParameter:
    return HyperParameter(
        "apply_recency_bias", "true", KIND_CATEGORICAL, values=_TRUE_FALSE, is_tunable=False,
        source=source,
    )


def _percentile(name: str, default: str, source: str) -> HyperParameter:
    return HyperParameter(
        name, default, KIND_CONTINUOUS, group=GROUP_FEATURIZATION, min_value=0.0, max_value=1.0,
        source=source,
    )


def _user_history_percentiles(min_default: str, max_default: str, source: str) -> tuple[HyperParameter, ...]:
    return (
        _percentile("min_user_history_length_percentile", min_default, source),
        _percentile("max_user_history_length_percentile", max_default, source),
    )


# ---------------------------------------------------------------------------
# Feature transformations
# ---------------------------------------------------------------------------

#: name → defaultParameters.  Only the five ARNs the guide names exist here; recipes whose
#: feature transformation the guide does not name have ``feature_transformation_arn=None``.
_FEATURE_TRANSFORMATIONS: dict[str, dict[str, str]] = {
    # guide L6859 (HRNN), L7217 (Personalized-Ranking); defaults from their tables L6882-L6887, L7244-L7247.
    "JSON-percentile-filtering": {
        "min_user_history_length_percentile": "0.0",
        "max_user_history_length_percentile": "0.99",
    },
    # guide L7114 (Popularity-Count), L7346 (SIMS); defaults = SIMS featurization table L7366-L7374.
    "sims": {
        "min_user_history_length_percentile": "0.005",
        "max_user_history_length_percentile": "0.995",
        "min_item_interaction_count_percentile": "0.01",
        "max_item_interaction_count_percentile": "0.9",
    },
    # guide L7538 / L7573: no featurization parameters documented.
    "item-affinity": {},
    "item-attribute-affinity": {},
    # Legacy HRNN-Metadata / HRNN-Coldstart, guide L6902, L6958, tables L6926-L6929, L6985-L6995.
    "featurize_metadata": {
        "min_user_history_length_percentile": "0.0",
        "max_user_history_length_percentile": "0.99",
    },
    "featurize_coldstart": {
        "cold_start_max_interactions": "15",
        "cold_start_max_duration": "5.0",
        "cold_start_relative_from": "latestItem",
        "min_user_history_length_percentile": "0.0",
        "max_user_history_length_percentile": "0.99",
    },
}


def _ft(name: str) -> str:
    assert name in _FEATURE_TRANSFORMATIONS, name
    return FEATURE_TRANSFORMATION_ARN_PREFIX + name


def _alg(name: str) -> str:
    return ALGORITHM_ARN_PREFIX + name


# ---------------------------------------------------------------------------
# Custom recipes (spec 20 §D)
# ---------------------------------------------------------------------------

_UP_REQUIREMENTS = Requirements(optional_datasets=(ITEMS, USERS))
_UP_V2_REQUIREMENTS = Requirements(optional_datasets=(ITEMS, USERS), max_items=MAX_ITEMS_V2)

_USER_INPUT = RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED)
_RANKING_INPUT = RuntimeInput(api=GET_PERSONALIZED_RANKING, user_id=REQUIRED, input_list=REQUIRED)
_POPULAR_INPUT = RuntimeInput(api=GET_RECOMMENDATIONS, user_id=FILTER_ONLY)
_RELATED_INPUT = RuntimeInput(api=GET_RECOMMENDATIONS, user_id=FILTER_ONLY, item_id=REQUIRED)
_SEGMENT_INPUT = RuntimeInput(api=None, user_id=NOT_USED)

USER_PERSONALIZATION_V2 = Recipe(
    name="aws-user-personalization-v2",
    recipe_type=USER_PERSONALIZATION,
    engine=ENGINE_USER_PERSONALIZATION,
    algorithm_arn=_alg("aws-user-personalization-v2"),
    description=(
        "Transformer-based recommendations of the items a user is most likely to interact "
        "with; trains on up to 5 million items, manages exploration automatically."
    ),
    source="spec 20 §D.1; guide L6492-L6560 (ARNs L6533-L6534, hyperparameters L6545-L6547)",
    hyperparameters=(_apply_recency_bias("guide L6547"),),
    returns_scores=True,
    requires=_UP_V2_REQUIREMENTS,
    input=_USER_INPUT,
    realtime=True,
    exploration=True,  # automatic, with an "Exploration" reason (guide L6505, spec 20 §B.2)
    exploration_configurable=False,
    auto_updates=True,
    automatic_hpo=True,
    batch_inference=True,
)

USER_PERSONALIZATION_V1 = Recipe(
    name="aws-user-personalization",
    recipe_type=USER_PERSONALIZATION,
    engine=ENGINE_USER_PERSONALIZATION,
    algorithm_arn=_alg("aws-user-personalization"),
    description=(
        "Predicts the items a user will interact with, exploring new and less relevant "
        "items; uses impressions, item and user metadata."
    ),
    source="spec 20 §D.1; guide L6564-L6823 (ARNs L6596-L6598, hyperparameters L6614-L6637)",
    hyperparameters=(
        _hidden_dimension("149", True, "guide L6616"),
        _bptt("guide L6620"),
        _recency_mask("guide L6621"),
        *_user_history_percentiles("0.0", "0.99", "guide L6626-L6629"),
        HyperParameter(
            "exploration_weight", "0.3", KIND_CONTINUOUS, group=GROUP_CAMPAIGN,
            min_value=0.0, max_value=1.0, source="guide L6634",
        ),
        HyperParameter(
            "exploration_item_age_cut_off", "30.0", KIND_CONTINUOUS, group=GROUP_CAMPAIGN,
            min_value=1.0, source="guide L6637 (positive float; minimum 1 day)",
        ),
    ),
    returns_scores=True,
    requires=_UP_REQUIREMENTS,
    input=_USER_INPUT,
    realtime=True,
    exploration=True,
    exploration_configurable=True,
    auto_updates=True,
    update_training_mode=True,
    batch_inference=True,
)

PERSONALIZED_RANKING_V2 = Recipe(
    name="aws-personalized-ranking-v2",
    recipe_type=PERSONALIZED_RANKING,
    engine=ENGINE_PERSONALIZED_RANKING,
    algorithm_arn=_alg("aws-personalized-ranking-v2"),
    description=(
        "Transformer-based re-ranking of a supplied list of items for one user; trains on "
        "up to 5 million items."
    ),
    source="spec 20 §D.3; guide L7130-L7198 (ARNs L7182-L7185, hyperparameters L7196-L7198)",
    hyperparameters=(_apply_recency_bias("guide L7198"),),
    returns_scores=True,
    requires=_UP_V2_REQUIREMENTS,
    input=_RANKING_INPUT,
    realtime=True,
    automatic_hpo=True,
    batch_inference=True,
)

PERSONALIZED_RANKING_V1 = Recipe(
    name="aws-personalized-ranking",
    recipe_type=PERSONALIZED_RANKING,
    engine=ENGINE_PERSONALIZED_RANKING,
    algorithm_arn=_alg("aws-personalized-ranking"),
    feature_transformation_arn=_ft("JSON-percentile-filtering"),
    description="Ranks a supplied list of items by the user's predicted interest.",
    source="spec 20 §D.3; guide L7200-L7250 (ARNs L7214-L7217, hyperparameters L7230-L7247)",
    hyperparameters=(
        _hidden_dimension("149", True, "guide L7232"),
        _bptt("guide L7236"),
        _recency_mask("guide L7237"),
        *_user_history_percentiles("0.0", "0.99", "guide L7244-L7247"),
    ),
    returns_scores=True,
    requires=_UP_REQUIREMENTS,
    input=_RANKING_INPUT,
    realtime=True,
    batch_inference=True,
)

TRENDING_NOW = Recipe(
    name="aws-trending-now",
    recipe_type=POPULAR_ITEMS,
    engine=ENGINE_TRENDING,
    algorithm_arn=_alg("aws-trending-now-custom"),  # note the "-custom" suffix, guide L7050
    description=(
        "Recommends the items whose interactions are increasing fastest over a configurable "
        "interval; new items are considered without retraining."
    ),
    source="spec 20 §D.2; guide L7026-L7097 (ARNs L7048-L7050, parameter L7062-L7072, example L7077-L7091)",
    hyperparameters=(
        HyperParameter(
            "trend_discovery_frequency", "2 hours", KIND_CATEGORICAL, group=GROUP_FEATURIZATION,
            # The four documented values plus the documented default "2 hours" (spec 20 §D.2 note).
            values=("30 minutes", "1 hour", "2 hours", "3 hours", "1 day"),
            source="guide L7064-L7072",
        ),
    ),
    requires=Requirements(),
    input=_POPULAR_INPUT,
    batch_inference=False,  # "no batch recommendations" (spec 20 §D.2, spec 30 §11.1)
)

POPULARITY_COUNT = Recipe(
    name="aws-popularity-count",
    # The DescribeRecipe type is USER_PERSONALIZATION although the type table groups it
    # under POPULAR_ITEMS (guide L7115 vs the type table L6430-L6455; spec 20 §C).
    recipe_type=USER_PERSONALIZATION,
    engine=ENGINE_POPULARITY,
    algorithm_arn=_alg("aws-popularity-count"),
    feature_transformation_arn=_ft("sims"),
    description=(
        "Recommends the items with the most interactions from unique users; every user "
        "gets the same list. A baseline for comparing metrics."
    ),
    source="spec 20 §D.2; guide L7101-L7117 (ARNs L7111-L7115; no exposed hyperparameters L7117)",
    requires=Requirements(),
    input=_POPULAR_INPUT,
    batch_inference=True,
)

SIMILAR_ITEMS = Recipe(
    name="aws-similar-items",
    recipe_type=RELATED_ITEMS,
    engine=ENGINE_SIMILAR_ITEMS,
    algorithm_arn=_alg("aws-similar-items"),
    description=(
        "Recommends items similar to a given item from co-occurrence in user histories and "
        "item metadata; works for cold items."
    ),
    source="spec 20 §D.4; guide L7274-L7326 (ARNs L7302-L7304, hyperparameters L7316-L7325)",
    hyperparameters=(
        HyperParameter(
            "popularity_discount_factor", "0.0", KIND_CONTINUOUS, min_value=0.0, max_value=1.0,
            is_tunable=False, source="guide L7318-L7321",
        ),
        HyperParameter(
            "item_id_hidden_dim", "100", KIND_INTEGER, min_value=30, max_value=200,
            is_tunable=True, hpo_only=True, source="guide L7322",
        ),
        HyperParameter(
            "item_metadata_hidden_dim", "100", KIND_INTEGER, min_value=30, max_value=200,
            is_tunable=True, hpo_only=True, source="guide L7325",
        ),
    ),
    # Items dataset is advised and used in training; Users only for filtering (spec 20 §D.4).
    requires=Requirements(optional_datasets=(ITEMS,)),
    input=_RELATED_INPUT,
    batch_inference=True,
    theme_generation=True,
)

SIMS = Recipe(
    name="aws-sims",
    recipe_type=RELATED_ITEMS,
    engine=ENGINE_SIMS,
    algorithm_arn=_alg("aws-sims"),
    feature_transformation_arn=_ft("sims"),
    description=(
        "Item-to-item similarities from co-occurrence in user histories (collaborative "
        "filtering); falls back to popular items for unknown or sparse items."
    ),
    source="spec 20 §D.4; guide L7327-L7378 (ARNs L7343-L7346, hyperparameters L7359-L7374)",
    hyperparameters=(
        HyperParameter(
            "popularity_discount_factor", "0.5", KIND_CONTINUOUS, min_value=0.0, max_value=1.0,
            is_tunable=True, source="guide L7361",
        ),
        HyperParameter(
            "min_cointeraction_count", "3", KIND_INTEGER, min_value=0, max_value=10,
            is_tunable=True, source="guide L7362",
        ),
        *_user_history_percentiles("0.005", "0.995", "guide L7366-L7368"),
        _percentile("min_item_interaction_count_percentile", "0.01", "guide L7371"),
        _percentile("max_item_interaction_count_percentile", "0.9", "guide L7374"),
    ),
    requires=Requirements(),  # does not train on Users or Items (filtering only)
    input=_RELATED_INPUT,
    batch_inference=True,
)

ITEM_AFFINITY = Recipe(
    name="aws-item-affinity",
    recipe_type=USER_SEGMENTATION,
    engine=ENGINE_ITEM_AFFINITY,
    algorithm_arn=_alg("aws-item-affinity"),
    feature_transformation_arn=_ft("item-affinity"),
    description=(
        "Creates a user segment for each given item: the users most likely to interact "
        "with it. Batch segment jobs only (up to 500 items per job)."
    ),
    source="spec 20 §D.6; guide L7521-L7552 (ARNs L7535-L7539, hyperparameter L7548-L7552, no HPO)",
    hyperparameters=(_hidden_dimension("149", False, "guide L7550"),),
    requires=Requirements(optional_datasets=(ITEMS, USERS)),
    input=_SEGMENT_INPUT,
    batch_segment=True,
)

ITEM_ATTRIBUTE_AFFINITY = Recipe(
    name="aws-item-attribute-affinity",
    recipe_type=USER_SEGMENTATION,
    engine=ENGINE_ITEM_ATTRIBUTE_AFFINITY,
    algorithm_arn=_alg("aws-item-attribute-affinity"),
    feature_transformation_arn=_ft("item-attribute-affinity"),
    description=(
        "Creates a user segment for each item-attribute query: the users most likely to "
        "interact with items having those attributes. Batch segment jobs only (up to 10 queries)."
    ),
    source="spec 20 §D.6; guide L7555-L7585 (ARNs L7569-L7574, hyperparameter L7583-L7585, no HPO)",
    hyperparameters=(_hidden_dimension("149", False, "guide L7585"),),
    requires=Requirements(
        required_datasets=(INTERACTIONS, ITEMS),
        optional_datasets=(USERS,),  # EMULATOR CHOICE: the guide only names Interactions + Items
        items_metadata_column_required=True,
    ),
    input=_SEGMENT_INPUT,
    batch_segment=True,
)

NEXT_BEST_ACTION = Recipe(
    name="aws-next-best-action",
    recipe_type=PERSONALIZED_ACTIONS,
    engine=ENGINE_NEXT_BEST_ACTION,
    algorithm_arn=_alg("aws-next-best-action"),
    description=(
        "Recommends the actions each user is most likely to take within the action "
        "optimization period, with a propensity score."
    ),
    source="spec 20 §D.5; guide L7380-L7503 (ARNs L7487-L7489, hyperparameter L7501-L7503, no HPO)",
    hyperparameters=(
        HyperParameter(
            "action_optimization_period", "14", KIND_INTEGER, group=GROUP_FEATURIZATION,
            min_value=7, max_value=28, source="guide L7503",
        ),
    ),
    returns_scores=True,
    requires=Requirements(
        required_datasets=(ACTIONS, INTERACTIONS),
        optional_datasets=(ACTION_INTERACTIONS, USERS, ITEMS),
        max_actions=MAX_ACTIONS,
    ),
    input=RuntimeInput(api=GET_ACTION_RECOMMENDATIONS, user_id=REQUIRED),
    realtime=True,  # through PutActionInteractions
    exploration=True,
    exploration_configurable=True,
    auto_updates=True,
    batch_inference=False,  # spec 30 §11.1
)

CUSTOM_RECIPES: tuple[Recipe, ...] = (
    USER_PERSONALIZATION_V2,
    USER_PERSONALIZATION_V1,
    PERSONALIZED_RANKING_V2,
    PERSONALIZED_RANKING_V1,
    TRENDING_NOW,
    POPULARITY_COUNT,
    SIMILAR_ITEMS,
    SIMS,
    ITEM_AFFINITY,
    ITEM_ATTRIBUTE_AFFINITY,
    NEXT_BEST_ACTION,
)


# ---------------------------------------------------------------------------
# Domain use cases (spec 20 §E)
# ---------------------------------------------------------------------------
# Algorithm ARNs: the guide names none for use cases.  EMULATOR CHOICE:
# ``arn:aws:personalize:::algorithm/<use-case-name>`` so that every recipe's algorithm
# resolves.  recipe_type: EMULATOR CHOICE by behaviour (the guide gives none).


def _use_case(
    name: str,
    domain: str,
    recipe_type: str,
    engine: str,
    backing_recipe: str,
    description: str,
    source: str,
    requires: Requirements,
    input: RuntimeInput,
    **extra,
) -> Recipe:
    return Recipe(
        name=name,
        recipe_type=recipe_type,
        engine=engine,
        algorithm_arn=_alg(name),
        description=description,
        source=source,
        domain=domain,
        returns_scores=False,  # domain recommenders return no scores (spec 20 §E notes)
        requires=requires,
        input=input,
        backing_recipe=backing_recipe,
        **extra,
    )


VOD_BECAUSE_YOU_WATCHED_X = _use_case(
    "aws-vod-because-you-watched-x", VIDEO_ON_DEMAND, RELATED_ITEMS, ENGINE_SIMS, "aws-sims",
    "Because you watched X: videos that other users also watched, based on a given video.",
    "spec 20 §E.1; guide L6161-L6175 (ARN L6167)",
    Requirements(required_event_types=(("Watch", 1000),)),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED, item_id=REQUIRED),
    excludes_seen_event_types=("Watch",),
    training_event_type="Watch",
)

VOD_MORE_LIKE_X = _use_case(
    "aws-vod-more-like-x", VIDEO_ON_DEMAND, RELATED_ITEMS, ENGINE_SIMILAR_ITEMS, "aws-similar-items",
    "More like X: videos similar to a given video.",
    "spec 20 §E.1; guide L6177-L6194 (ARN L6183)",
    Requirements(required_datasets=(INTERACTIONS, ITEMS), recommended_event_types=("Watch", "Click")),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED, item_id=REQUIRED),
    excludes_seen_event_types=("Watch",),
)

VOD_MOST_POPULAR = _use_case(
    "aws-vod-most-popular", VIDEO_ON_DEMAND, POPULAR_ITEMS, ENGINE_POPULARITY, "aws-popularity-count",
    "Most popular: the videos watched by the most users.",
    "spec 20 §E.1; guide L6196-L6208 (ARN L6200)",
    Requirements(required_event_types=(("Watch", 1000),)),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED),  # "required" (?) spec 20 §E notes
    training_event_type="Watch",
)

VOD_TRENDING_NOW = _use_case(
    "aws-vod-trending-now", VIDEO_ON_DEMAND, POPULAR_ITEMS, ENGINE_TRENDING, "aws-trending-now",
    "Trending now: the videos gaining popularity fastest; re-evaluated every 2 hours.",
    "spec 20 §E.1; guide L6212-L6224 (ARN L6216)",
    Requirements(),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=FILTER_ONLY),
    engine_overrides=(("trend_discovery_frequency", "2 hours"),),
)

VOD_TOP_PICKS = _use_case(
    "aws-vod-top-picks", VIDEO_ON_DEMAND, USER_PERSONALIZATION, ENGINE_USER_PERSONALIZATION,
    "aws-user-personalization",
    "Top picks for you: personalized video recommendations for a given user.",
    "spec 20 §E.1; guide L6226-L6262 (ARN L6234)",
    Requirements(optional_datasets=(ITEMS, USERS), recommended_event_types=("Click", "Watch")),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED),
    excludes_seen_event_types=("Watch",),
    realtime=True,
    exploration=True,
    exploration_configurable=True,
    auto_updates=True,
)

ECOMM_POPULAR_ITEMS_BY_VIEWS = _use_case(
    "aws-ecomm-popular-items-by-views", ECOMMERCE, POPULAR_ITEMS, ENGINE_POPULARITY,
    "aws-popularity-count",
    "Most viewed: popular items by number of views.",
    "spec 20 §E.2; guide L6275-L6290 (ARN L6279)",
    Requirements(required_event_types=(("View", 1000),)),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED),
    training_event_type="View",
)

ECOMM_POPULAR_ITEMS_BY_PURCHASES = _use_case(
    "aws-ecomm-popular-items-by-purchases", ECOMMERCE, POPULAR_ITEMS, ENGINE_POPULARITY,
    "aws-popularity-count",
    "Best sellers: popular items by number of purchases.",
    "spec 20 §E.2; guide L6292-L6307 (ARN L6296)",
    Requirements(required_event_types=(("Purchase", 1000),)),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED),
    training_event_type="Purchase",
)

ECOMM_FREQUENTLY_BOUGHT_TOGETHER = _use_case(
    "aws-ecomm-frequently-bought-together", ECOMMERCE, RELATED_ITEMS, ENGINE_SIMS, "aws-sims",
    "Frequently bought together: items customers often buy together with a given item.",
    "spec 20 §E.2; guide L6309-L6323 (ARN L6313)",
    Requirements(required_event_types=(("Purchase", 1000),)),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=FILTER_ONLY, item_id=REQUIRED),
    training_event_type="Purchase",
)

ECOMM_CUSTOMERS_WHO_VIEWED_X_ALSO_VIEWED = _use_case(
    "aws-ecomm-customers-who-viewed-x-also-viewed", ECOMMERCE, RELATED_ITEMS, ENGINE_SIMS, "aws-sims",
    "Customers who viewed X also viewed: items other customers viewed together with a given item.",
    "spec 20 §E.2; guide L6325-L6342 (ARN L6331)",
    Requirements(required_event_types=(("View", 1000),), recommended_event_types=("Purchase",)),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED, item_id=REQUIRED),
    excludes_seen_event_types=("Purchase",),
    training_event_type="View",
)

ECOMM_RECOMMENDED_FOR_YOU = _use_case(
    "aws-ecomm-recommended-for-you", ECOMMERCE, USER_PERSONALIZATION, ENGINE_USER_PERSONALIZATION,
    "aws-user-personalization",
    "Recommended for you: personalized item recommendations for a given user.",
    "spec 20 §E.2; guide L6344-L6380 (ARN L6352)",
    Requirements(optional_datasets=(ITEMS, USERS), recommended_event_types=("View", "Purchase")),
    RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED),
    excludes_seen_event_types=("Purchase",),
    realtime=True,
    exploration=True,
    exploration_configurable=True,
    auto_updates=True,
)

VOD_USE_CASES: tuple[Recipe, ...] = (
    VOD_BECAUSE_YOU_WATCHED_X,
    VOD_MORE_LIKE_X,
    VOD_MOST_POPULAR,
    VOD_TRENDING_NOW,
    VOD_TOP_PICKS,
)
ECOMMERCE_USE_CASES: tuple[Recipe, ...] = (
    ECOMM_POPULAR_ITEMS_BY_VIEWS,
    ECOMM_POPULAR_ITEMS_BY_PURCHASES,
    ECOMM_FREQUENTLY_BOUGHT_TOGETHER,
    ECOMM_CUSTOMERS_WHO_VIEWED_X_ALSO_VIEWED,
    ECOMM_RECOMMENDED_FOR_YOU,
)
DOMAIN_USE_CASES: tuple[Recipe, ...] = VOD_USE_CASES + ECOMMERCE_USE_CASES


# ---------------------------------------------------------------------------
# Legacy HRNN family (spec 20 §D.1 "Legacy HRNN family"; guide L6825-L7020)
# ---------------------------------------------------------------------------
# "Legacy HRNN recipes are no longer available; this documentation is for reference
# only" (guide L6834).  They are NOT in ALL_RECIPES / ListRecipes; recipe_by_arn finds
# them only with include_legacy=True so DescribeRecipe can still answer and
# CreateSolution can refuse with a clear message.

_HRNN_INPUT = RuntimeInput(api=GET_RECOMMENDATIONS, user_id=REQUIRED)  # ITEM_ID ignored (guide L6852)

HRNN = Recipe(
    name="aws-hrnn",
    recipe_type=USER_PERSONALIZATION,
    engine=ENGINE_USER_PERSONALIZATION,
    algorithm_arn=_alg("aws-hrnn"),
    feature_transformation_arn=_ft("JSON-percentile-filtering"),
    description="Legacy hierarchical recurrent neural network recipe (no longer available).",
    source="guide L6842-L6888 (ARNs L6856-L6860, hyperparameters L6872-L6887)",
    hyperparameters=(
        _hidden_dimension("43", True, "guide L6872"),
        _bptt("guide L6876"),
        _recency_mask("guide L6877"),
        *_user_history_percentiles("0.0", "0.99", "guide L6882-L6887"),
    ),
    returns_scores=True,
    requires=Requirements(),
    input=_HRNN_INPUT,
    batch_inference=True,
    legacy=True,
)

HRNN_METADATA = Recipe(
    name="aws-hrnn-metadata",
    recipe_type=USER_PERSONALIZATION,
    engine=ENGINE_USER_PERSONALIZATION,
    algorithm_arn=_alg("aws-hrnn-metadata"),
    feature_transformation_arn=_ft("featurize_metadata"),
    description="Legacy HRNN recipe with contextual, user and item metadata (no longer available).",
    source="guide L6889-L6930 (ARNs L6899-L6903, hyperparameters L6918-L6929)",
    hyperparameters=(
        _hidden_dimension("43", True, "guide L6918"),
        _bptt("guide L6919"),
        _recency_mask("guide L6922"),
        *_user_history_percentiles("0.0", "0.99", "guide L6926-L6929"),
    ),
    returns_scores=True,
    requires=Requirements(optional_datasets=(ITEMS, USERS)),
    input=_HRNN_INPUT,
    batch_inference=True,
    legacy=True,
)

HRNN_COLDSTART = Recipe(
    name="aws-hrnn-coldstart",
    recipe_type=USER_PERSONALIZATION,
    engine=ENGINE_USER_PERSONALIZATION,
    algorithm_arn=_alg("aws-hrnn-coldstart"),
    feature_transformation_arn=_ft("featurize_coldstart"),
    description="Legacy HRNN-Metadata recipe that also recommends new (cold) items (no longer available).",
    source="guide L6931-L6996 (ARNs L6955-L6959, hyperparameters L6973-L6995)",
    hyperparameters=(
        _hidden_dimension("149", True, "guide L6973"),
        _bptt("guide L6979"),
        _recency_mask("guide L6980"),
        HyperParameter(
            "cold_start_max_interactions", "15", KIND_INTEGER, group=GROUP_FEATURIZATION,
            min_value=1, source="guide L6985 (positive integer)",
        ),
        HyperParameter(
            "cold_start_max_duration", "5.0", KIND_CONTINUOUS, group=GROUP_FEATURIZATION,
            min_value=0.0, source="guide L6986 (positive float)",
        ),
        HyperParameter(
            "cold_start_relative_from", "latestItem", KIND_CATEGORICAL, group=GROUP_FEATURIZATION,
            values=("currentTime", "latestItem"), source="guide L6989",
        ),
        *_user_history_percentiles("0.0", "0.99", "guide L6992-L6995"),
    ),
    returns_scores=True,
    requires=Requirements(required_datasets=(INTERACTIONS, ITEMS), optional_datasets=(USERS,)),
    input=_HRNN_INPUT,
    update_training_mode=True,  # botocore CreateSolutionVersion.trainingMode doc
    batch_inference=True,
    legacy=True,
)

LEGACY_RECIPES: tuple[Recipe, ...] = (HRNN, HRNN_METADATA, HRNN_COLDSTART)


# ---------------------------------------------------------------------------
# The catalogue and lookups
# ---------------------------------------------------------------------------

#: Every recipe ListRecipes returns, in a stable order: custom recipes first, then the
#: VIDEO_ON_DEMAND use cases, then the ECOMMERCE use cases.
ALL_RECIPES: tuple[Recipe, ...] = CUSTOM_RECIPES + DOMAIN_USE_CASES

_BY_ARN: dict[str, Recipe] = {r.arn: r for r in ALL_RECIPES}
_LEGACY_BY_ARN: dict[str, Recipe] = {r.arn: r for r in LEGACY_RECIPES}
_BY_NAME: dict[str, Recipe] = {r.name: r for r in ALL_RECIPES + LEGACY_RECIPES}


def recipe_by_arn(arn: str | None, *, include_legacy: bool = False) -> Recipe | None:
    """The recipe or use case with this ARN, or ``None``.

    Legacy HRNN recipes are found only with ``include_legacy=True``.  The lookup is exact:
    the tutorial's ``arn:aws:personalize::recipe/...`` (two colons, guide L3554, L9835) is
    a typo in the guide and is not accepted.
    """
    if not arn:
        return None
    recipe = _BY_ARN.get(arn)
    if recipe is None and include_legacy:
        recipe = _LEGACY_BY_ARN.get(arn)
    return recipe


def recipe_by_name(name: str) -> Recipe | None:
    """Look up by name (e.g. ``aws-sims``), legacy recipes included."""
    return _BY_NAME.get(name)


def list_recipes(recipe_provider: str | None = None, domain: str | None = None) -> list[Recipe]:
    """Recipes for ``ListRecipes``.

    ``recipe_provider``: ``None`` or ``"SERVICE"`` (the only botocore value; default
    SERVICE).  ``domain``: ``None`` → every recipe (custom and use cases); a domain → only
    that domain's use cases (botocore ListRecipesRequest.domain doc).  Raises
    ``ValueError`` for any other value (map it to ``InvalidInputException``).
    """
    if recipe_provider is not None and recipe_provider != RECIPE_PROVIDER_SERVICE:
        raise ValueError(f"Invalid recipeProvider: {recipe_provider}")
    if domain is None:
        return list(ALL_RECIPES)
    if domain not in DOMAINS:
        raise ValueError(f"Invalid domain: {domain}")
    return [r for r in ALL_RECIPES if r.domain == domain]


def _algorithm_shape(recipe: Recipe) -> dict:
    name = recipe.algorithm_arn[len(ALGORITHM_ARN_PREFIX):]
    return {
        "name": name,
        "algorithmArn": recipe.algorithm_arn,
        # EMULATOR CHOICE: there is no container; the URI names the local engine.
        "algorithmImage": {"name": name, "dockerURI": f"localpersonalize/engine/{recipe.engine}:latest"},
        "defaultHyperParameters": recipe.default_hyperparameters,
        "defaultHyperParameterRanges": recipe.hyperparameter_ranges(),
        # EMULATOR CHOICE: within botocore HPOResourceConfig maxima (40 / 10).
        "defaultResourceConfig": {"maxNumberOfTrainingJobs": "20", "maxParallelTrainingJobs": "5"},
        "trainingInputMode": "File",  # EMULATOR CHOICE
        "creationDateTime": CATALOGUE_TIMESTAMP,
        "lastUpdatedDateTime": CATALOGUE_TIMESTAMP,
    }


_ALGORITHMS_BY_ARN: dict[str, Recipe] = {r.algorithm_arn: r for r in ALL_RECIPES + LEGACY_RECIPES}


def algorithm_by_arn(arn: str | None) -> dict | None:
    """botocore ``Algorithm`` shape (DescribeAlgorithm's ``algorithm``), or ``None``.

    Covers every listed recipe's algorithm plus the legacy HRNN ones (describing them is
    harmless).  A fresh dict on every call.
    """
    recipe = _ALGORITHMS_BY_ARN.get(arn or "")
    return _algorithm_shape(recipe) if recipe else None


def feature_transformation_by_arn(arn: str | None) -> dict | None:
    """botocore ``FeatureTransformation`` shape, or ``None``.  A fresh dict on every call."""
    if not arn or not arn.startswith(FEATURE_TRANSFORMATION_ARN_PREFIX):
        return None
    name = arn[len(FEATURE_TRANSFORMATION_ARN_PREFIX):]
    params = _FEATURE_TRANSFORMATIONS.get(name)
    if params is None:
        return None
    return {
        "name": name,
        "featureTransformationArn": arn,
        "defaultParameters": dict(params),
        "creationDateTime": CATALOGUE_TIMESTAMP,
        "lastUpdatedDateTime": CATALOGUE_TIMESTAMP,
        "status": "ACTIVE",
    }


def all_algorithm_arns() -> list[str]:
    return list(_ALGORITHMS_BY_ARN)


def all_feature_transformation_arns() -> list[str]:
    return [FEATURE_TRANSFORMATION_ARN_PREFIX + n for n in _FEATURE_TRANSFORMATIONS]


#: Values in this module that are emulator choices, not documented facts.
UNCERTAIN_FACTS: tuple[str, ...] = (
    "Algorithm ARNs of the ten domain use cases (synthesised as algorithm/<use-case-name>).",
    "recipeType of the domain use cases (chosen by behaviour).",
    "featureTransformationArn of UP-v2, UP, PR-v2, Similar-Items, Trending-Now, NBA and the "
    "use cases (not in the guide; omitted from DescribeRecipe).",
    "Recipe descriptions (written from the guide, not AWS's strings).",
    "creationDateTime / lastUpdatedDateTime (one fixed timestamp).",
    "Algorithm algorithmImage, defaultResourceConfig, trainingInputMode.",
    "Domain use cases' training_event_type / backing_recipe / engine mapping.",
    "Whether featurization names are accepted in algorithmHyperParameters (lenient here).",
    "Whether legacy HRNN recipes are still listed by the real ListRecipes (hidden here).",
)


__all__ = [
    "ACTIONS", "ACTION_INTERACTIONS", "ALL_RECIPES", "CATALOGUE_TIMESTAMP", "CUSTOM_RECIPES",
    "DEFAULT_ITEM_EXPLORATION_CONFIG", "DOMAINS", "DOMAIN_USE_CASES", "ECOMMERCE",
    "ECOMMERCE_USE_CASES", "ENGINES", "FILTER_ONLY", "GET_ACTION_RECOMMENDATIONS",
    "GET_PERSONALIZED_RANKING", "GET_RECOMMENDATIONS", "HyperParameter", "INTERACTIONS", "ITEMS",
    "LEGACY_RECIPES", "NOT_USED", "PERSONALIZED_ACTIONS", "PERSONALIZED_RANKING", "POPULAR_ITEMS",
    "RECIPE_PROVIDER_SERVICE", "RECIPE_TYPES", "RELATED_ITEMS", "REQUIRED", "Recipe",
    "Requirements", "RuntimeInput", "SEEN_FILTER_MAX_INTERACTIONS_PER_EVENT_TYPE",
    "UNCERTAIN_FACTS", "USERS", "USER_PERSONALIZATION", "USER_SEGMENTATION", "VIDEO_ON_DEMAND",
    "VOD_USE_CASES", "algorithm_by_arn", "all_algorithm_arns", "all_feature_transformation_arns",
    "feature_transformation_by_arn", "list_recipes", "recipe_by_arn", "recipe_by_name",
]
