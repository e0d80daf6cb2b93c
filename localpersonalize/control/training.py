"""Training glue between the control layer and the engine: the solution's configuration checked at
CreateSolution, a snapshot of the dataset group's data after the training rules, the minimum-data
rules, HPO, the training modes, the recipe's model and its offline metrics.

The engine knows nothing of IDs or ARNs; this module hands it integer arrays and keeps the mapping.

Training rules applied here (issue 5; spec 30 §6.3-§6.7, §7; spec 20 §E; spec 10 §2):

* ``eventType`` keeps only those events (exact match for solutions; domain use cases train on their
  own event type, matched case-insensitively, spec 20 §E); ``solutionConfig.eventValueThreshold``
  keeps events with ``EVENT_VALUE ≥`` the threshold (domain recommenders ignore EVENT_VALUE, spec 10
  §5.1).
* ``trainingDataConfig.excludedDatasetColumns``: excluded Items columns are not used as item metadata
  (Similar-Items); an excluded Interactions ``EVENT_VALUE`` disables the value threshold. Other
  columns have no effect on our models (they do not train on them). ``EVENT_TYPE`` cannot be excluded.
* The minimum data (≥ 1000 interactions, ≥ 25 users with ≥ 2) and the use cases' event minimums
  (e.g. ≥ 1000 ``Watch`` events) fail the training with the numbers found; a recipe's required
  datasets (Items for More-like-X / Item-Attribute-Affinity, Actions for Next-Best-Action) too.
* Item limit: 750,000 items (5,000,000 for the -v2 recipes; guide L4775-L4779): above it the items
  kept are the most recently active or created ones (newest of last interaction and
  CREATION_TIMESTAMP), so new and recently active items are always in the model.
* ``trainingMode`` ``FULL`` (and ``AUTOTRAIN``) trains from scratch; ``UPDATE`` folds the items and
  users added since ``base`` into its model without retraining (engine.update), keeping its metrics.
* Deterministic: every run uses :data:`SEED`; ``training_seconds`` is the real wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import engine
from ..engine.interactions import Interactions, from_arrays
from ..errors import InvalidInputException
from . import recipes as catalogue
from .lifecycle import FailedWork

#: Seed of every training run: results are deterministic for the same data (issue 5, "Training rules").
SEED = 0
#: ``hpoResourceConfig`` maxima (botocore HPOResourceConfig docs) and the defaults when absent.
MAX_HPO_TRAINING_JOBS, MAX_HPO_PARALLEL_JOBS = 40, 10
DEFAULT_HPO_TRAINING_JOBS, DEFAULT_HPO_PARALLEL_JOBS = 20, 5
TRAINING_MODES = ("FULL", "UPDATE", "AUTOTRAIN")
_RANGE_KINDS = {"integerHyperParameterRanges": catalogue.KIND_INTEGER,
                "continuousHyperParameterRanges": catalogue.KIND_CONTINUOUS,
                "categoricalHyperParameterRanges": catalogue.KIND_CATEGORICAL}


@dataclass
class TrainedModel:
    """A trained model and what was known when it was trained.

    ``model`` answers with item indices into the dataset group's item index; ``n_items`` is the
    catalogue size the model was trained on (later items are unknown to it); ``metrics`` are the
    offline metrics (spec 30 §8, keys per recipe family); ``training_seconds`` is the wall time of
    training and evaluation; ``interactions`` is the training snapshot, from which recipes that do not
    react in real time serve (see :func:`user_history_at_training`); ``hyperparameters`` the values
    trained with; ``tuned_hyperparameters`` the HPO winner (``tunedHPOParams.algorithmHyperParameters``)
    or None; ``mode`` the training mode; ``deletions`` the group's data deletions count
    (``DatasetGroupData.deletions``) before the snapshot, so the users deleted since are known.
    """

    recipe_name: str
    model: object
    n_items: int
    metrics: dict
    training_seconds: float
    interactions: Interactions | None = None
    hyperparameters: dict = field(default_factory=dict)
    tuned_hyperparameters: dict | None = None
    mode: str = "FULL"
    deletions: int = 0


# ----------------------------------------------------------------------------- CreateSolution checks
def _int_resource(config: dict, key: str, default: int, most: int) -> int:
    raw = config.get(key, default)
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidInputException(f"hpoResourceConfig.{key} must be an integer; got {raw!r}.") from None
    if not 1 <= value <= most:
        raise InvalidInputException(f"hpoResourceConfig.{key} must be between 1 and {most}; got {value}.")
    return value


def _check_ranges(recipe, ranges: dict) -> None:
    """Each range names a tunable hyperparameter of the recipe, of the right kind, inside its documented
    range (min ≤ max), with allowed categorical values."""
    for key, kind in _RANGE_KINDS.items():
        for r in ranges.get(key) or []:
            name = engine._hpo.range_name(str(r.get("name", "")))
            hp = recipe.hyperparameter(name)
            if hp is None or not hp.is_tunable:
                tunable = ", ".join(h.name for h in recipe.hyperparameters if h.is_tunable) or "none"
                raise InvalidInputException(
                    f"Hyperparameter {name} cannot be tuned with recipe {recipe.name}; tunable: {tunable}.")
            if hp.kind != kind:
                raise InvalidInputException(f"Hyperparameter {name} is {hp.kind}; it cannot be in {key}.")
            if kind == catalogue.KIND_CATEGORICAL:
                values = r.get("values") or []
                if not values:
                    raise InvalidInputException(f"The categorical range of {name} needs at least one value.")
                bad = [v for v in values if hp.check(v)]
                if bad:
                    raise InvalidInputException(hp.check(bad[0]))
                continue
            lo, hi = r.get("minValue"), r.get("maxValue")
            if lo is None or hi is None or lo > hi:
                raise InvalidInputException(f"The range of {name} needs minValue <= maxValue; got {lo}, {hi}.")
            problem = hp.check(lo) or hp.check(hi)
            if problem:
                raise InvalidInputException(f"The range of {name} is outside its documented range: {problem}.")


def validate_solution_config(recipe, config: dict | None, perform_hpo: bool = False) -> None:
    """Check a CreateSolution's ``solutionConfig`` against ``recipe`` (a catalogue Recipe); raise
    :class:`InvalidInputException` naming the problem (one call in api/solutions.py).

    Rules: every ``algorithmHyperParameters`` / ``featureTransformationParameters`` name is documented
    for the recipe and in its range (spec 20 §D; ``Recipe.validate_parameters``); ``performHPO`` needs a
    recipe with tunable hyperparameters (Next-Best-Action, the segmentation recipes and the -v2 recipes
    have "no HPO", guide L7503, L7550, L6538); ``hpoConfig`` ranges name tunable parameters within
    their documented ranges, ``maxNumberOfTrainingJobs`` ≤ 40 and ``maxParallelTrainingJobs`` ≤ 10
    (botocore HPOResourceConfig); ``eventValueThreshold`` is a number; ``excludedDatasetColumns`` never
    holds ``EVENT_TYPE`` (spec 30 §5.1, §6.4).
    """
    config = config or {}
    errors = recipe.validate_parameters(config.get("algorithmHyperParameters"),
                                        config.get("featureTransformationParameters"), perform_hpo=perform_hpo)
    if errors:
        raise InvalidInputException(errors[0])
    if perform_hpo:
        if not recipe.supports_hpo:
            raise InvalidInputException(f"The recipe {recipe.name} does not support hyperparameter "
                                        "optimization; set performHPO to false.")
        hpo = config.get("hpoConfig") or {}
        _check_ranges(recipe, hpo.get("algorithmHyperParameterRanges") or {})
        resources = hpo.get("hpoResourceConfig") or {}
        _int_resource(resources, "maxNumberOfTrainingJobs", DEFAULT_HPO_TRAINING_JOBS, MAX_HPO_TRAINING_JOBS)
        _int_resource(resources, "maxParallelTrainingJobs", DEFAULT_HPO_PARALLEL_JOBS, MAX_HPO_PARALLEL_JOBS)
    threshold = config.get("eventValueThreshold")
    if threshold not in (None, ""):
        try:
            float(threshold)
        except ValueError:
            raise InvalidInputException(f"eventValueThreshold must be a number; got {threshold!r}.") from None
    excluded = (config.get("trainingDataConfig") or {}).get("excludedDatasetColumns") or {}
    if any("EVENT_TYPE" in (cols or []) for cols in excluded.values()):
        raise InvalidInputException("EVENT_TYPE cannot be excluded from training (excludedDatasetColumns).")


# ----------------------------------------------------------------------------- the training snapshot
def _event_mask(ds, event_type: str | None, case_insensitive: bool) -> np.ndarray:
    """bool[n] rows of an interactions dataset whose EVENT_TYPE is ``event_type`` (all rows for None)."""
    n = ds.n_rows
    if event_type is None:
        return np.ones(n, bool)
    if ds.schema.field("EVENT_TYPE") is None:
        return np.zeros(n, bool)
    names = ds.dictionary("EVENT_TYPE").ids
    want = event_type.lower() if case_insensitive else event_type
    ok = np.array([(s.lower() if case_insensitive else s) == want for s in names] + [False], bool)
    return ok[ds.codes("EVENT_TYPE")]


def snapshot(group_data, event_type: str | None = None, event_value_threshold: float | None = None,
             case_insensitive: bool = False) -> Interactions:
    """The dataset group's interactions as engine input, after the event filters.

    ``event_type``: keep only that EVENT_TYPE (case-insensitively when ``case_insensitive``);
    ``event_value_threshold``: keep EVENT_VALUE ≥ it (nulls dropped). Index spaces are the group's
    ``users`` / ``items``; timestamps epoch seconds; EVENT_VALUE kept (NaN = none).

    Raises:
        FailedWork: when the dataset group has no interactions dataset.
    """
    ds = group_data.dataset("INTERACTIONS")
    if ds is None:
        raise FailedWork("The dataset group has no Interactions dataset; import interactions before training.")
    keep = _event_mask(ds, event_type, case_insensitive)
    value = None
    if ds.schema.field("EVENT_VALUE") is not None:
        value = np.asarray(ds.codes("EVENT_VALUE"), np.float64).copy()
        value[ds.null_mask("EVENT_VALUE")] = np.nan
    if event_value_threshold is not None:
        if value is None:
            keep[:] = False
        else:
            with np.errstate(invalid="ignore"):
                keep &= value >= float(event_value_threshold)
    # anonymous events count for the user their session was linked to, and are never trained on while
    # the session is unlinked (spec 40 §5, "anonymous users")
    u, i, t = ds.user_codes(), ds.codes("ITEM_ID"), ds.codes("TIMESTAMP")
    keep &= u >= 0
    return from_arrays(u[keep], i[keep], t[keep], n_users=len(group_data.users), n_items=len(group_data.items),
                       event_value=None if value is None else value[keep])


def limit_items(interactions: Interactions, max_items: int, created: np.ndarray | None = None) -> Interactions:
    """Keep the events of at most ``max_items`` items: the most recently active or created ones.

    An item's recency is the newest of its last interaction and its ``created`` time (float64[n_items]
    epoch seconds, NaN = unknown); ties keep the lower index. Items beyond the limit lose their events
    (the model does not know them). Returns ``interactions`` unchanged when within the limit.
    """
    active = np.unique(interactions.item_idx)
    if len(active) <= max_items:
        return interactions
    last = np.full(interactions.n_items, -np.inf)
    np.maximum.at(last, interactions.item_idx, interactions.timestamp.astype(np.float64))
    if created is not None:
        last = np.fmax(last, np.asarray(created, np.float64)[:interactions.n_items])
    keep_items = active[np.lexsort((active, -last[active]))[:max_items]]
    allowed = np.zeros(interactions.n_items, bool)
    allowed[keep_items] = True
    return interactions.subset(allowed[interactions.item_idx])


#: The datasets whose schema UpdateDataset may replace, adding columns (spec 40 §10).
_REPLACEABLE = ("USERS", "ITEMS")


def metadata_columns(group_data) -> dict:
    """``{"USERS": [field name, ...], "ITEMS": [...]}``: the columns of the group's Users and Items
    datasets now (the types it has), kept by CreateSolution and CreateRecommender for
    :func:`without_new_columns`."""
    return {t: list(ds.schema.field_names) for t in _REPLACEABLE if (ds := group_data.dataset(t)) is not None}


def without_new_columns(config: dict | None, known: dict | None, group_data) -> dict | None:
    """``config`` (a ``solutionConfig``, or a recommender's ``recommenderConfig``) with the Users and Items
    columns added since ``known`` (:func:`metadata_columns` when the solution or recommender was created)
    added to ``trainingDataConfig.excludedDatasetColumns``: "when you replace a dataset's schema,
    Personalize automatically excludes the new columns from training of existing recommenders or custom
    solutions" (guide L16090, spec 40 §10). A dataset created after ``known`` adds no excluded column.
    Returns ``config`` itself when no column is new."""
    new = {t: [c for c in ds.schema.field_names if c not in known[t]]
           for t in _REPLACEABLE if known and t in known and (ds := group_data.dataset(t)) is not None}
    new = {t: cols for t, cols in new.items() if cols}
    if not new:
        return config
    config = dict(config or {})
    training_data = dict(config.get("trainingDataConfig") or {})
    excluded = {k.upper(): list(v or []) for k, v in (training_data.get("excludedDatasetColumns") or {}).items()}
    for t, cols in new.items():
        excluded[t] = excluded.get(t, []) + [c for c in cols if c not in excluded.get(t, [])]
    training_data["excludedDatasetColumns"] = excluded
    config["trainingDataConfig"] = training_data
    return config


def _excluded(config: dict, dataset_type: str) -> set:
    excluded = (config.get("trainingDataConfig") or {}).get("excludedDatasetColumns") or {}
    return {c for key, cols in excluded.items() if key.upper() == dataset_type for c in (cols or [])}


def _items_rows(group_data):
    ds = group_data.dataset("ITEMS")
    return (ds, ds.codes("ITEM_ID")) if ds is not None else (None, None)


def item_created(group_data, n_items: int) -> np.ndarray | None:
    """float64[n_items] CREATION_TIMESTAMP per item from the Items dataset (NaN = none), or None."""
    ds, rows = _items_rows(group_data)
    if ds is None or ds.schema.field("CREATION_TIMESTAMP") is None:
        return None
    out = np.full(n_items, np.nan)
    vals = np.asarray(ds.codes("CREATION_TIMESTAMP"), np.float64).copy()
    vals[ds.null_mask("CREATION_TIMESTAMP")] = np.nan
    ok = rows < n_items
    out[rows[ok]] = vals[ok]
    return out


def item_metadata(group_data, n_items: int, excluded: set = frozenset()):
    """Item metadata features for Similar-Items (:func:`engine.item_features`) from the Items dataset's
    categorical string fields and its textual field, minus ``excluded`` columns; None without Items.
    Booleans, numbers and plain strings are not used (spec 30 §5.1 "always ignored")."""
    ds, rows = _items_rows(group_data)
    if ds is None:
        return None
    fields = [f for f in ds.schema.fields if f.name not in excluded and f.name != "ITEM_ID"]
    cats = [ds.column(f.name) for f in fields if f.type == "string" and f.categorical]
    texts = [ds.column(f.name) for f in fields if f.type == "string" and f.textual]
    ok = rows < n_items
    return engine.item_features(n_items, rows[ok], [c[ok] for c in cats], texts[0][ok] if texts else None)


def action_data(group_data) -> engine.ActionData | None:
    """Next-Best-Action input from the Actions and Action interactions datasets (None without Actions).

    ``EVENT_TYPE`` ``TAKEN`` (any case, spaces/underscores alike) marks a taken action; ``NOT_TAKEN`` and
    ``VIEWED`` the others. VALUE, EXPIRATION_TIMESTAMP (or ACTION_EXPIRATION_TIMESTAMP, spec 10 §4 note)
    and REPEAT_FREQUENCY per action, NaN when absent."""
    acts = group_data.dataset("ACTIONS")
    if acts is None:
        return None
    n_actions = len(group_data.actions)

    def per_action(*names):
        out = np.full(n_actions, np.nan)
        for name in names:
            if acts.schema.field(name) is not None:
                v = np.asarray(acts.codes(name), np.float64).copy()
                v[acts.null_mask(name)] = np.nan
                out[acts.codes("ACTION_ID")] = v
                break
        return out

    ai = group_data.dataset("ACTION_INTERACTIONS")
    if ai is None or ai.n_rows == 0:
        u = a = t = np.zeros(0, np.int64)
        taken = np.zeros(0, bool)
    else:
        u, a, t = ai.user_codes(), ai.codes("ACTION_ID"), ai.codes("TIMESTAMP")
        names = ai.dictionary("EVENT_TYPE").ids
        lut = np.array([n.replace(" ", "_").upper() == "TAKEN" for n in names] + [False], bool)
        taken = lut[ai.codes("EVENT_TYPE")]
        known = u >= 0  # unlinked anonymous action interactions are not trained on (spec 40 §5)
        u, a, t, taken = u[known], a[known], t[known], taken[known]
    return engine.ActionData(np.asarray(u, np.int32), np.asarray(a, np.int32), np.asarray(t, np.int64), taken,
                             n_actions, per_action("VALUE"),
                             per_action("EXPIRATION_TIMESTAMP", "ACTION_EXPIRATION_TIMESTAMP"),
                             per_action("REPEAT_FREQUENCY"))


def _check_requirements(recipe, group_data, event_type_counts) -> None:
    """Required datasets and the use cases' event minimums (spec 20 §E), as FailedWork with numbers."""
    for dtype in recipe.requires.required_datasets:
        ds = group_data.dataset(dtype)
        if ds is None or (dtype != catalogue.INTERACTIONS and ds.n_rows == 0):
            raise FailedWork(f"{recipe.name} needs a {dtype.title().replace('_', ' ')} dataset with data in the "
                             "dataset group.")
    for event, minimum in recipe.requires.required_event_types:
        found = event_type_counts(event)
        if found < minimum:
            raise FailedWork(f"There are not enough {event} events in the dataset for {recipe.name}. "
                             f"The minimum is {minimum} {event} events; found {found}.")


# ----------------------------------------------------------------------------- training
def _hpo_settings(config: dict) -> tuple[dict, int, int]:
    hpo = config.get("hpoConfig") or {}
    res = hpo.get("hpoResourceConfig") or {}
    return (hpo.get("algorithmHyperParameterRanges") or {},
            _int_resource(res, "maxNumberOfTrainingJobs", DEFAULT_HPO_TRAINING_JOBS, MAX_HPO_TRAINING_JOBS),
            _int_resource(res, "maxParallelTrainingJobs", DEFAULT_HPO_PARALLEL_JOBS, MAX_HPO_PARALLEL_JOBS))


def train(recipe, group_data, event_type: str | None, solution_config: dict | None, *, mode: str = "FULL",
          base: TrainedModel | None = None, perform_hpo: bool = False) -> TrainedModel:
    """Train ``recipe`` (a catalogue :class:`~.recipes.Recipe`) on the dataset group's current data.

    ``event_type``: the solution's ``eventType`` (domain use cases pass their ``training_event_type``);
    ``solution_config``: the solution's ``solutionConfig`` (None for recommenders); ``mode``: the
    version's ``trainingMode``; ``base``: the ACTIVE FULL version's TrainedModel (required for UPDATE);
    ``perform_hpo``: the solution's ``performHPO`` (random search, engine/hpo.py, within
    ``hpoConfig``; the winner is in ``tuned_hyperparameters``).

    Raises:
        FailedWork: a training rule (module docstring) with the numbers found, or UPDATE without base.
    """
    started = time.perf_counter()
    config = solution_config or {}
    domain = recipe.is_domain_use_case
    excluded_events = _excluded(config, "INTERACTIONS")
    threshold = config.get("eventValueThreshold")
    use_threshold = threshold not in (None, "") and not domain and "EVENT_VALUE" not in excluded_events
    deletions = group_data.deletions  # before the snapshot: a deletion in between removes no one it holds
    with group_data.reading():  # one moment of the data, while events and imports go on in other threads
        data = snapshot(group_data, event_type, float(threshold) if use_threshold else None, case_insensitive=domain)
        ds = group_data.dataset("INTERACTIONS")
        _check_requirements(recipe, group_data, lambda e: int(_event_mask(ds, e, True).sum()))
        reason = engine.check_minimum_data(data)
        if reason:
            raise FailedWork(reason)
        data = limit_items(data, recipe.requires.max_items, item_created(group_data, data.n_items))
        fam = engine.family(recipe.name)
        features = item_metadata(group_data, data.n_items, _excluded(config, "ITEMS")) if fam == "similar_items" else None
        actions = action_data(group_data) if fam == "nba" else None
    params = recipe.engine_parameters
    if domain:
        # Recommenders are trained "with the best configuration" (guide L641), not with the backing
        # recipe's featurization filters: SIMS's max_item_interaction_count_percentile 0.9 would drop
        # the best sellers from "Frequently bought together".
        params = {k: v for k, v in params.items() if not k.endswith("_percentile")}
    params.update(config.get("featureTransformationParameters") or {})
    params.update(config.get("algorithmHyperParameters") or {})
    name = recipe.name
    tuned = None
    try:
        if mode == "UPDATE":
            if base is None:
                raise FailedWork("trainingMode UPDATE needs the ACTIVE FULL solution version to update.")
            model = engine.update(base.model, data)
            return TrainedModel(name, model, data.n_items, dict(base.metrics), time.perf_counter() - started, data,
                                dict(base.hyperparameters), None, "UPDATE", deletions)
        if perform_hpo and recipe.supports_hpo:
            ranges, jobs, parallel = _hpo_settings(config)
            params, _ = engine.hpo(name, data, params, ranges, jobs, parallel, seed=SEED, item_features=features)
            tuned = {k: v for k, v in params.items() if recipe.hyperparameter(k) is not None
                     and recipe.hyperparameter(k).group == catalogue.GROUP_ALGORITHM}
        model, metrics = engine.train_and_evaluate(name, data, params, seed=SEED, item_features=features,
                                                   actions=actions)
    except NotImplementedError as exc:
        raise FailedWork(f"localpersonalize cannot train {name}: {exc}") from None
    except ValueError as exc:
        raise FailedWork(f"Training {name} failed: {exc}") from None
    return TrainedModel(name, model, data.n_items, metrics, time.perf_counter() - started, data, params, tuned,
                        mode, deletions)


# ----------------------------------------------------------------------------- serving helpers
def user_history(group_data, user_id: str | None, n_items: int, event_types: tuple[str, ...] | None = None
                 ) -> np.ndarray:
    """Item indices (int32) of ``user_id``'s interactions, oldest first, known to a model of ``n_items``
    items: the training history plus every event streamed since (real-time personalization).
    ``event_types`` keeps only those event types (case-insensitive)."""
    items = group_data.user_items(user_id, event_types)
    return items[items < n_items]


def user_history_at_training(trained: TrainedModel, group_data, user_id: str | None) -> np.ndarray:
    """Item indices (int32) of ``user_id``'s interactions as they were when ``trained`` was trained, oldest
    first: what a recipe that does not react to new events (``Recipe.realtime`` false, spec 20 §B.1)
    serves from until its next training. Empty for a user unknown at training time."""
    snap = trained.interactions
    code = group_data.users.code(user_id, add=False) if user_id is not None else -1
    if snap is None or not 0 <= code < snap.n_users:
        return np.empty(0, np.int32)
    return snap.history(code).astype(np.int32, copy=False)


def recommend_actions(trained: TrainedModel, group_data, user_id: str, k: int, now: float | None = None,
                      allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GetActionRecommendations for ``user_id`` from a Next-Best-Action TrainedModel on the current data
    (real time: streamed item and action interactions count; the Actions dataset's VALUE,
    EXPIRATION_TIMESTAMP and REPEAT_FREQUENCY as they are now, PutActions included). Returns
    ``(action codes int32[k'], scores float64[k'], candidates bool[n_actions])``: the model's ranking of
    its actions (engine ``recommend_actions`` rules: expired and repeat-window actions left out, ties by
    VALUE, 0.0 scores before the data gate) and every action of the group's ``actions`` index that may
    be recommended now under the same rules, those added since training included (exploration's pool).
    ``now``: epoch seconds (default: the newest event at training time); ``allowed``: bool[n_actions]
    (filters)."""
    model = trained.model
    n_model, n_all = model.actions.n_actions, len(group_data.actions)
    now = model.now if now is None else float(now)
    history = user_history(group_data, user_id, trained.n_items)
    acts = action_data(group_data)
    code = group_data.users.code(user_id, add=False) if user_id is not None else -1
    a_idx, taken = np.zeros(0, np.int64), np.zeros(0, bool)
    last = np.full(n_all, np.nan)
    candidates = np.ones(n_all, bool)
    if acts is not None:
        mine = acts.user_idx == code if code >= 0 else np.zeros(len(acts.user_idx), bool)
        took = mine & acts.taken
        np.fmax.at(last, acts.action_idx[took], acts.timestamp[took].astype(np.float64))
        sel = mine & (acts.action_idx < n_model)
        a_idx, taken = acts.action_idx[sel], acts.taken[sel]
        candidates &= engine.nba.available_actions(acts, now, last)[:n_all]
    if allowed is not None:
        candidates &= np.asarray(allowed, bool)[:n_all]
    codes, scores = model.recommend_actions(history, (a_idx, taken), k, now=now, last_taken=last,
                                            allowed=candidates[:n_model], current=acts)
    return codes, scores, candidates


def users_for_item_sets(trained: TrainedModel, item_sets: list, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batch segment jobs (USER_SEGMENTATION): the top-``k`` user codes per item set (int arrays of item
    codes; for Item-Attribute-Affinity, the items matching the attribute query) with their
    probabilities, scored on the training snapshot ("a new version is needed to include new users",
    spec 20 §D.6). See engine.segments.users_for_items."""
    snap = trained.interactions
    indptr, seq = snap.user_histories()
    H = trained.model.histories_csr([seq[indptr[u]:indptr[u + 1]] for u in range(snap.n_users)])
    sets = [np.asarray(s, np.int64)[np.asarray(s, np.int64) < trained.n_items] for s in item_sets]
    return engine.users_for_items(trained.model, H, sets, k)
