"""Solutions, solution versions (training) and their offline metrics (spec 30 §6-§8).

Automatic training and the training itself live in control/workflow.py; this module checks requests.
"""

from __future__ import annotations

from ..control import lifecycle, quotas, recipes, training, workflow
from ..control.lifecycle import ACTIVE, COUNTS_AS_ACTIVE, CREATE_CHAIN, PENDING_OR_RUNNING
from ..errors import (InvalidInputException, ResourceAlreadyExistsException, ResourceInUseException,
                      ResourceNotFoundException)
from . import operation
from .common import bool_param, delete, describe_record, list_children, not_busy, require_active

#: Recipes whose versions may be trained with trainingMode UPDATE (SolutionVersion.trainingMode docs).
UPDATE_RECIPES = ("arn:aws:personalize:::recipe/aws-user-personalization",
                  "arn:aws:personalize:::recipe/aws-hrnn-coldstart")


def recipe_for(arn: str):
    """The catalogue entry of ``arn``. Raises ResourceNotFoundException for an unknown recipe."""
    recipe = recipes.recipe_by_arn(arn)
    if recipe is None:
        raise ResourceNotFoundException(f"The given recipe does not exist: {arn}")
    return recipe


def _check_schedule(auto_training_config: dict | None) -> None:
    """``schedulingExpression`` must be ``rate(N day|days)`` with N in 1..30 (spec 30 §6.3)."""
    expression = (auto_training_config or {}).get("schedulingExpression")
    if expression is not None and workflow.schedule_days(expression) is None:
        raise InvalidInputException(
            f"Invalid schedulingExpression {expression!r}: expected rate(N days) with N between 1 and 30.")


@operation("CreateSolution")
def create_solution(ctx, p):
    """Custom recipes only; `performAutoTraining` (default true) schedules AUTOTRAIN versions; quota of
    active solutions per dataset group."""
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        require_active(group, "dataset group")
        if bool_param(p.get("performAutoML")):
            raise InvalidInputException("performAutoML is a legacy option that localpersonalize does not support; "
                                        "pass a recipeArn.")
        if not p.get("recipeArn"):
            raise InvalidInputException("recipeArn is required.")
        recipe = recipe_for(p["recipeArn"])
        if recipe.domain:
            raise InvalidInputException(
                f"{recipe.arn} is a domain use case: create a recommender with it, not a solution.")
        auto = bool_param(p.get("performAutoTraining"))
        auto = True if auto is None else auto
        config = dict(p.get("solutionConfig") or {})
        training.validate_solution_config(recipe, config, bool(bool_param(p.get("performHPO"))))
        _check_schedule(config.get("autoTrainingConfig"))
        if auto:
            config.setdefault("autoTrainingConfig", {"schedulingExpression": "rate(7 days)"})
        arn = store.arn("solution", p["name"])
        if store.find(arn) is None:
            quotas.check("active_solutions_per_dataset_group",
                         len(store.all("solution", lambda s: s.parent == group.arn and s.status in COUNTS_AS_ACTIVE)))
        record = {"name": p["name"], "solutionArn": arn, "recipeArn": recipe.arn,
                  "datasetGroupArn": group.arn, "eventType": p.get("eventType"), "solutionConfig": config,
                  "performHPO": bool(bool_param(p.get("performHPO"))), "performAutoML": False,
                  "performAutoTraining": auto,
                  "performIncrementalUpdate": bool(bool_param(p.get("performIncrementalUpdate")))}
        solution = store.create("solution", arn, record, parent=group.arn, tags=p.get("tags"))
        solution.extra["columns"] = training.metadata_columns(group.extra["data"])  # new ones: not trained on

        def on_done(reason):
            if reason is None:
                workflow.schedule_autotraining(store, solution, solution.record["lastUpdatedDateTime"])

        lifecycle.run_work(solution, store, None, on_done=on_done)
    return {"solutionArn": arn}


@operation("DescribeSolution")
def describe_solution(ctx, p):
    """Every field, with `latestSolutionVersion` (the newest version now) and `latestSolutionUpdate`."""
    res, record = ctx.store.describe("solution", p["solutionArn"])
    record["latestSolutionVersion"] = workflow.latest_version_summary(ctx.store, res.arn)
    return {"solution": record}


@operation("ListSolutions")
def list_solutions(ctx, p):
    """Filter by `datasetGroupArn`; newest first, opaque tokens."""
    return list_children(ctx, p, "solution", "solutions", "datasetGroupArn")


@operation("UpdateSolution")
def update_solution(ctx, p):
    """Automatic training on/off and its schedule, `performIncrementalUpdate`, `eventsConfig`, through
    `latestSolutionUpdate` (CREATE PENDING > CREATE IN_PROGRESS > ACTIVE)."""
    store = ctx.store
    with store.lock:
        solution = store.get("solution", p["solutionArn"])
        not_busy(solution, "solution")
        require_active(solution, "solution")
        if store.transition(solution, "latestSolutionUpdate") is not None:
            raise ResourceInUseException(f"An update of solution {solution.arn} is already in progress.")
        rec = solution.record
        update_config = dict(p.get("solutionUpdateConfig") or {})
        _check_schedule(update_config.get("autoTrainingConfig"))
        auto = bool_param(p.get("performAutoTraining"))
        auto = rec["performAutoTraining"] if auto is None else auto
        incremental = bool_param(p.get("performIncrementalUpdate"))
        incremental = rec.get("performIncrementalUpdate", False) if incremental is None else incremental
        now = store.clock.now()
        rec["latestSolutionUpdate"] = {"solutionUpdateConfig": update_config, "performAutoTraining": auto,
                                       "performIncrementalUpdate": incremental,
                                       "creationDateTime": now, "lastUpdatedDateTime": now}

        def finish(reason, at):
            config = dict(rec.get("solutionConfig") or {})
            config.update({k: v for k, v in update_config.items() if v is not None})
            if auto:
                config.setdefault("autoTrainingConfig", {"schedulingExpression": "rate(7 days)"})
            store.touch_update(solution, "latestSolutionUpdate", at=at, status=ACTIVE)
            store.touch(solution, at=at, performAutoTraining=auto, performIncrementalUpdate=incremental,
                        solutionConfig=config)
            workflow.schedule_autotraining(store, solution, at)

        store.start(solution, CREATE_CHAIN, finish=finish, field="latestSolutionUpdate")
    return {"solutionArn": solution.arn}


@operation("DeleteSolution")
def delete_solution(ctx, p):
    """Refused while a version trains or a campaign uses the solution; removes its versions and stops its
    automatic training."""
    store = ctx.store
    with store.lock:
        res = store.get("solution", p["solutionArn"])
        versions = workflow.versions(store, res.arn)
        running = [v for v in versions if v.status in PENDING_OR_RUNNING]
        if running:
            raise ResourceInUseException(f"Solution {res.arn} has a solution version in progress: {running[0].arn}.")
        deployed = store.all("campaign", lambda c: c.parent == res.arn)
        if deployed:
            raise ResourceInUseException(f"Solution {res.arn} is used by campaign {deployed[0].arn}.")

        def gone():
            for v in workflow.versions(store, res.arn):
                store.remove(v)

        delete(store, res, "solution", gone=gone)
    return {}


@operation("CreateSolutionVersion")
def create_solution_version(ctx, p):
    """Real training in the background; `trainingMode` FULL, or UPDATE (User-Personalization, after an
    ACTIVE FULL version; folds the new users and items into that model, no retraining); quota of versions
    in progress."""
    store = ctx.store
    with store.lock:
        solution = store.get("solution", p["solutionArn"])
        require_active(solution, "solution")
        mode = p.get("trainingMode") or "FULL"
        existing = workflow.versions(store, solution.arn)
        if mode == "AUTOTRAIN":
            raise InvalidInputException("trainingMode AUTOTRAIN is set by automatic training; use FULL or UPDATE.")
        if mode == "UPDATE":
            if solution.record["recipeArn"] not in UPDATE_RECIPES:
                raise InvalidInputException("trainingMode UPDATE is only supported for the User-Personalization "
                                            "and HRNN-ColdStart recipes.")
            if not any(v.status == ACTIVE and v.record["trainingMode"] == "FULL" for v in existing):
                raise InvalidInputException(
                    f"trainingMode UPDATE needs an ACTIVE solution version trained with FULL for {solution.arn}.")
        if p.get("name") and any(v.record.get("name") == p["name"] for v in existing):
            taken = next(v for v in existing if v.record.get("name") == p["name"])
            raise ResourceAlreadyExistsException(f"Another resource with Arn {taken.arn} already exists.")
        quotas.check("pending_solution_versions",
                     len(store.all("solution-version", lambda v: v.status in PENDING_OR_RUNNING)))
        version = workflow.start_solution_version(store, solution, mode=mode, name=p.get("name"), tags=p.get("tags"))
    return {"solutionVersionArn": version.arn}


@operation("DescribeSolutionVersion")
def describe_solution_version(ctx, p):
    """`trainingMode` (FULL/UPDATE/AUTOTRAIN), `trainingType` (MANUAL/AUTOMATIC), `trainingHours`,
    `failureReason`."""
    return describe_record(ctx, p, "solution-version", "solutionVersion")


@operation("ListSolutionVersions")
def list_solution_versions(ctx, p):
    """Filter by `solutionArn` (which must exist); newest first, opaque tokens."""
    if p.get("solutionArn"):
        ctx.store.get("solution", p["solutionArn"])
    return list_children(ctx, p, "solution-version", "solutionVersions", "solutionArn")


@operation("StopSolutionVersionCreation")
def stop_solution_version_creation(ctx, p):
    """CREATE PENDING > CREATE STOPPED; CREATE IN_PROGRESS > CREATE STOPPING > CREATE STOPPED."""
    store = ctx.store
    with store.lock:
        version = store.get("solution-version", p["solutionVersionArn"])
        if version.status == lifecycle.CREATE_PENDING:
            store.cancel(version)
            store.touch(version, status=lifecycle.CREATE_STOPPED)
        elif version.status == lifecycle.CREATE_IN_PROGRESS:
            store.start(version, (lifecycle.CREATE_STOPPING,),
                        finish=lambda reason, at: store.touch(version, at=at, status=lifecycle.CREATE_STOPPED))
        elif version.status == lifecycle.CREATE_STOPPING:
            raise ResourceInUseException(f"Solution version {version.arn} is already stopping.")
        else:
            raise InvalidInputException(
                f"Solution version {version.arn} is {version.status}: only a version in CREATE PENDING or "
                "CREATE IN_PROGRESS can be stopped.")
    return {}


@operation("GetSolutionMetrics")
def get_solution_metrics(ctx, p):
    """The offline metrics of an ACTIVE version (Personalize's holdout)."""
    version = ctx.store.get("solution-version", p["solutionVersionArn"])
    require_active(version, "solution version")
    return {"solutionVersionArn": version.arn, "metrics": version.extra["trained"].metrics}
