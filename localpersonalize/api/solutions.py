"""Solutions, solution versions (training) and their offline metrics (spec 30 §6-§8)."""

from __future__ import annotations

from ..control import lifecycle, recipes, training
from ..control.arns import solution_version_arn
from ..control.lifecycle import ACTIVE
from ..errors import InvalidInputException, ResourceInUseException, ResourceNotFoundException
from . import operation
from .common import bool_param, list_page, no_children, require_active


def recipe_for(arn: str):
    """The catalogue entry of ``arn``. Raises ResourceNotFoundException for an unknown recipe."""
    recipe = recipes.recipe_by_arn(arn)
    if recipe is None:
        raise ResourceNotFoundException(f"The given recipe does not exist: {arn}")
    return recipe


@operation("CreateSolution")
def create_solution(ctx, p):
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
        if auto:
            config.setdefault("autoTrainingConfig", {"schedulingExpression": "rate(7 days)"})
        arn = store.arn("solution", p["name"])
        record = {"name": p["name"], "solutionArn": arn, "recipeArn": recipe.arn,
                  "datasetGroupArn": group.arn, "eventType": p.get("eventType"), "solutionConfig": config,
                  "performHPO": bool(bool_param(p.get("performHPO"))), "performAutoML": False,
                  "performAutoTraining": auto,
                  "performIncrementalUpdate": bool(bool_param(p.get("performIncrementalUpdate")))}
        store.create("solution", arn, record, parent=group.arn, tags=p.get("tags"), status=ACTIVE)
    return {"solutionArn": arn}


@operation("DescribeSolution")
def describe_solution(ctx, p):
    return {"solution": ctx.store.get("solution", p["solutionArn"]).record}


@operation("ListSolutions")
def list_solutions(ctx, p):
    where = (lambda r: r.parent == p["datasetGroupArn"]) if p.get("datasetGroupArn") else None
    return list_page(ctx.store.all("solution", where), p, "solutions")


@operation("DeleteSolution")
def delete_solution(ctx, p):
    store = ctx.store
    with store.lock:
        res = store.get("solution", p["solutionArn"])
        versions = store.all("solution-version", lambda v: v.parent == res.arn)
        running = [v for v in versions if v.status in lifecycle.PENDING_OR_RUNNING]
        if running:
            raise ResourceInUseException(f"Solution {res.arn} has a solution version in progress: {running[0].arn}.")
        deployed = store.all("campaign", lambda c: c.record["solutionVersionArn"].startswith(res.arn + "/"))
        if deployed:
            raise ResourceInUseException(f"Solution {res.arn} is used by campaign {deployed[0].arn}.")
        for v in versions:
            store.remove(v)
        store.remove(res)
    return {}


@operation("CreateSolutionVersion")
def create_solution_version(ctx, p):
    store = ctx.store
    with store.lock:
        solution = store.get("solution", p["solutionArn"])
        require_active(solution, "solution")
        mode = p.get("trainingMode") or "FULL"
        if mode == "UPDATE":
            raise InvalidInputException("trainingMode UPDATE is not supported by localpersonalize yet; use FULL.")
        group = store.get("dataset-group", solution.parent)
        sol = solution.record
        arn = solution_version_arn(solution.arn)
        record = {"name": p.get("name"), "solutionVersionArn": arn, "solutionArn": solution.arn,
                  "recipeArn": sol["recipeArn"], "eventType": sol.get("eventType"),
                  "datasetGroupArn": sol["datasetGroupArn"], "solutionConfig": sol.get("solutionConfig"),
                  "performHPO": sol["performHPO"], "performAutoML": False,
                  "performIncrementalUpdate": sol["performIncrementalUpdate"],
                  "trainingMode": mode, "trainingType": "MANUAL"}
        version = store.create("solution-version", arn, record, parent=solution.arn, tags=p.get("tags"))
        store.touch(solution, latestSolutionVersion=record)
    recipe = recipe_for(sol["recipeArn"])

    def work():
        trained = training.train(recipe, group.extra["data"], sol.get("eventType"), sol.get("solutionConfig"))
        version.extra["trained"] = trained
        store.touch(version, trainingHours=trained.training_seconds / 3600.0)

    lifecycle.run_work(version, store, work)
    return {"solutionVersionArn": arn}


@operation("DescribeSolutionVersion")
def describe_solution_version(ctx, p):
    return {"solutionVersion": ctx.store.get("solution-version", p["solutionVersionArn"]).record}


@operation("ListSolutionVersions")
def list_solution_versions(ctx, p):
    if p.get("solutionArn"):
        ctx.store.get("solution", p["solutionArn"])
    where = (lambda r: r.parent == p["solutionArn"]) if p.get("solutionArn") else None
    return list_page(ctx.store.all("solution-version", where), p, "solutionVersions")


@operation("StopSolutionVersionCreation")
def stop_solution_version_creation(ctx, p):
    store = ctx.store
    with store.lock:
        version = store.get("solution-version", p["solutionVersionArn"])
        if version.status == lifecycle.CREATE_PENDING:
            store.touch(version, status=lifecycle.CREATE_STOPPED)
        elif version.status == lifecycle.CREATE_IN_PROGRESS:
            store.touch(version, status=lifecycle.CREATE_STOPPING)
        else:
            raise InvalidInputException(
                f"Solution version {version.arn} is {version.status}: only a version in CREATE PENDING or "
                "CREATE IN_PROGRESS can be stopped.")
    return {}


@operation("GetSolutionMetrics")
def get_solution_metrics(ctx, p):
    version = ctx.store.get("solution-version", p["solutionVersionArn"])
    require_active(version, "solution version", InvalidInputException)
    return {"solutionVersionArn": version.arn, "metrics": version.extra["trained"].metrics}
