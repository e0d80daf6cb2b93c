"""What happens on its own once a solution trains: solution versions (manual and automatic), the
automatic-training schedule, and campaign deployments that follow ``<solution>/$LATEST``.

* Automatic training (spec 30 §6.3; CreateSolution docs): with ``performAutoTraining`` (default true) a
  solution trains every ``schedulingExpression`` ``rate(N days)`` (default 7). The first automatic version
  starts one hour after the solution became ACTIVE, and is skipped when a version was created manually
  within that hour; the schedule is anchored to that first time. A tick trains only when new interaction
  data arrived since the last training (and no version is in progress); such versions have
  ``trainingMode`` ``AUTOTRAIN`` and ``trainingType`` ``AUTOMATIC``. Ticks run on the store's clock.
* Campaign deployments (spec 30 §9): a campaign serves the version in ``extra["deployed"]``; an update
  (``UpdateCampaign``, or a new ACTIVE version of a solution a campaign follows with
  ``syncWithLatestSolutionVersion``) goes through ``latestCampaignUpdate`` ``CREATE PENDING ->
  CREATE IN_PROGRESS -> ACTIVE`` and the campaign keeps serving its previous version until then.
* Recommender retraining (guide L9501, L10200, L10328): Personalize fully retrains the model behind a
  recommender every 7 days on all the data in the datasets, in the background (the recommender keeps
  serving its current model until the new one is trained); a stopped recommender is not retrained, and
  starting it resumes the 7-day schedule. As with automatic training, a tick with no new interactions
  since the last training keeps the model.
"""

from __future__ import annotations

import re

from . import lifecycle, recipes, training
from .lifecycle import ACTIVE, CREATE_CHAIN

LATEST = "/$LATEST"
FIRST_AUTOTRAINING_DELAY = 3600.0  # seconds after the solution is ACTIVE (CreateSolution docs)
DAY = 86400.0
_RATE = re.compile(r"rate\((\d+) days?\)")


def schedule_days(expression: str | None) -> int | None:
    """N of ``rate(N day|days)`` when 1 ≤ N ≤ 30 (spec 30 §6.3), else None. ``None`` means the default 7."""
    if expression is None:
        return 7
    m = _RATE.fullmatch(expression)
    n = int(m.group(1)) if m else 0
    return n if 1 <= n <= 30 else None


def interactions_mark(group_data):
    """An object that changes whenever the dataset group's interactions change (bulk or streamed), or
    None without interactions. The data layer swaps its immutable row snapshot on every write."""
    ds = group_data.dataset("INTERACTIONS")
    if ds is None or ds.n_rows == 0:
        return None
    return getattr(ds, "version", None) or ds._state


# ----- solution versions
def versions(store, solution_arn: str) -> list:
    """The versions of a solution, oldest first."""
    return store.all("solution-version", lambda v: v.parent == solution_arn)


def latest_version_summary(store, solution_arn: str) -> dict | None:
    """The newest version's record (the API projects it onto ``SolutionVersionSummary``), or None."""
    found = versions(store, solution_arn)
    return dict(found[-1].record) if found else None


def start_solution_version(store, solution, mode: str = "FULL", training_type: str = "MANUAL",
                           name: str | None = None, tags=None, at: float | None = None):
    """Create a solution version of ``solution`` (a Resource) and train it in the background.

    The version copies the solution's configuration; when it becomes ACTIVE the campaigns following the
    solution's ``$LATEST`` redeploy. ``at``: creation time (a scheduled tick's due time). Raises what
    ``store.create`` raises. Returns the version Resource.
    """
    from .arns import solution_version_arn

    sol = solution.record
    group = store.get("dataset-group", solution.parent)
    recipe = recipes.recipe_by_arn(sol["recipeArn"])
    arn = solution_version_arn(solution.arn)
    record = {"name": name, "solutionVersionArn": arn, "solutionArn": solution.arn,
              "recipeArn": sol["recipeArn"], "eventType": sol.get("eventType"),
              "datasetGroupArn": sol["datasetGroupArn"], "solutionConfig": sol.get("solutionConfig"),
              "performHPO": sol["performHPO"], "performAutoML": False,
              "performIncrementalUpdate": sol.get("performIncrementalUpdate", False),
              "trainingMode": mode, "trainingType": training_type}
    version = store.create("solution-version", arn, record, parent=solution.arn, tags=tags)
    if at is not None:
        version.record["creationDateTime"] = version.record["lastUpdatedDateTime"] = at
    version.extra["data_mark"] = interactions_mark(group.extra["data"])

    base = next((v.extra.get("trained") for v in reversed(versions(store, solution.arn))
                 if v.status == ACTIVE and v.record.get("trainingMode") == "FULL"), None) if mode == "UPDATE" else None

    def work():
        config = training.without_new_columns(sol.get("solutionConfig"), solution.extra.get("columns"),
                                              group.extra["data"])
        trained = training.train(recipe, group.extra["data"], sol.get("eventType"), config,
                                 mode=mode, base=base, perform_hpo=bool(sol.get("performHPO")))
        version.extra["trained"] = trained
        tuned = {"tunedHPOParams": {"algorithmHyperParameters": trained.tuned_hyperparameters}} \
            if trained.tuned_hyperparameters is not None else {}
        store.touch(version, trainingHours=trained.training_seconds / 3600.0, **tuned)

    def on_done(reason):
        if reason is None:
            sync_campaigns(store, solution.arn)

    lifecycle.run_work(version, store, work, on_done=on_done)
    return version


# ----- automatic training
def schedule_autotraining(store, solution, at: float) -> None:
    """(Re)start the automatic-training schedule of an ACTIVE solution at ``at``: the first tick one hour
    later (CreateSolution docs), or nothing when ``performAutoTraining`` is off."""
    key = (solution.arn, "autotrain")
    if not solution.record.get("performAutoTraining"):
        store.unschedule(key)
        return
    solution.extra["autotrain_since"] = at
    solution.extra["autotrain_first"] = True
    store.schedule(key, at + FIRST_AUTOTRAINING_DELAY, lambda due: _autotrain_tick(store, solution, due))


def _autotrain_tick(store, solution, due: float) -> None:
    """One scheduled tick (runs under the store lock): train when the rules allow, then re-schedule."""
    if store.find(solution.arn) is not solution or solution.status != ACTIVE:
        return
    rec = solution.record
    if not rec.get("performAutoTraining"):
        return
    days = schedule_days(((rec.get("solutionConfig") or {}).get("autoTrainingConfig") or {})
                         .get("schedulingExpression")) or 7
    store.schedule((solution.arn, "autotrain"), due + days * DAY, lambda at: _autotrain_tick(store, solution, at))
    first = solution.extra.pop("autotrain_first", False)
    existing = versions(store, solution.arn)
    if first and any(v.record["creationDateTime"] >= solution.extra.get("autotrain_since", 0) for v in existing):
        return  # a manual version within the first hour skips the first automatic training
    if any(v.status in lifecycle.PENDING_OR_RUNNING for v in existing):
        return
    group = store.find(solution.parent)
    mark = interactions_mark(group.extra["data"]) if group is not None else None
    if mark is None or (existing and existing[-1].extra.get("data_mark") is mark):
        return  # no interactions, or none new since the last training
    start_solution_version(store, solution, mode="AUTOTRAIN", training_type="AUTOMATIC", at=due)


# ----- recommenders
RECOMMENDER_RETRAINING_DAYS = 7  # guide L9501, L10200


def recommender_trainer(store, rec, config: dict | None = None, known: dict | None = None):
    """The work of training recommender ``rec``'s use case on its group's current data: returns
    ``(holder, work)``; after ``work()`` the model (a ``training.TrainedModel``) is ``holder["trained"]``.
    ``config``: the ``recommenderConfig`` to train with (default: the recommender's), whose
    ``trainingDataConfig`` columns are not trained on, nor the Users and Items columns added since
    ``known`` (default: the columns when the recommender was created; ``training.without_new_columns``).
    Remembers the data it trains on, for the retraining ticks. Raises ``lifecycle.FailedWork`` (from
    ``work``) when the data breaks a training rule."""
    recipe = recipes.recipe_by_arn(rec.record["recipeArn"])
    group = store.get("dataset-group", rec.parent)
    holder = {"data_mark": interactions_mark(group.extra["data"])}
    config = rec.record["recommenderConfig"] if config is None else config
    known = rec.extra.get("columns") if known is None else known

    def work():
        training_config = training.without_new_columns(
            {"trainingDataConfig": config.get("trainingDataConfig")}, known, group.extra["data"])
        holder["trained"] = training.train(recipe, group.extra["data"], recipe.training_event_type, training_config)

    return holder, work


def serve_trained(store, rec, holder, at: float | None = None) -> None:
    """Make the model of a finished :func:`recommender_trainer` the one ``rec`` serves, with its
    ``modelMetrics``."""
    rec.extra["trained"] = holder["trained"]
    rec.extra["data_mark"] = holder["data_mark"]
    store.touch(rec, at=at, modelMetrics=holder["trained"].metrics)


def schedule_recommender_retraining(store, rec, at: float) -> None:
    """(Re)start the 7-day retraining schedule of recommender ``rec`` from ``at`` (epoch seconds): when it
    becomes ACTIVE after creation, and when it is started again after a stop."""
    store.schedule((rec.arn, "retrain"), at + RECOMMENDER_RETRAINING_DAYS * DAY,
                   lambda due: _retrain_tick(store, rec, due))


def _retrain_tick(store, rec, due: float) -> None:
    """One retraining tick (runs under the store lock): retrain in the background when the recommender is
    ACTIVE, not updating, and new interactions arrived; then re-schedule. A failed retraining keeps the
    model that serves now."""
    if store.find(rec.arn) is not rec or rec.status != ACTIVE:
        return  # deleted, or stopped (StartRecommender re-schedules)
    schedule_recommender_retraining(store, rec, due)
    if store.transition(rec, "latestRecommenderUpdate") is not None or store.transition(rec, "retraining"):
        return
    group = store.find(rec.parent)
    mark = interactions_mark(group.extra["data"]) if group is not None else None
    if mark is None or mark is rec.extra.get("data_mark"):
        return
    holder, work = recommender_trainer(store, rec)

    def finish(reason, at):
        rec.record.pop("retraining", None)  # internal progress record, not part of the API shape
        if reason is None and store.find(rec.arn) is rec:
            serve_trained(store, rec, holder, at)

    store.start(rec, CREATE_CHAIN, work=work, finish=finish, field="retraining", at=due)


# ----- campaigns
def resolve_latest(store, solution_arn: str):
    """The newest ACTIVE version of a solution, or None."""
    found = store.all("solution-version", lambda v: v.parent == solution_arn and v.status == ACTIVE)
    return found[-1] if found else None


def resolve(store, version_arn: str):
    """The version a ``solutionVersionArn`` names now (``<solution>/$LATEST`` resolved), or None."""
    if version_arn.endswith(LATEST):
        return resolve_latest(store, version_arn[: -len(LATEST)])
    return store.find(version_arn)


def deploy(store, campaign, at: float) -> None:
    """Start the campaign's creation (``CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE``); it serves the
    version its ``solutionVersionArn`` names when it becomes ACTIVE."""

    def finish(reason, at):
        version = resolve(store, campaign.record["solutionVersionArn"])
        if version is None or version.status != ACTIVE:
            store.touch(campaign, at=at, status=lifecycle.CREATE_FAILED,
                        failureReason=f"No ACTIVE solution version for {campaign.record['solutionVersionArn']}.")
            return
        campaign.extra["deployed"] = version.arn
        store.touch(campaign, at=at, status=ACTIVE)

    store.start(campaign, CREATE_CHAIN, finish=finish, at=at)


def start_campaign_update(store, campaign, version_arn: str, tps: int, config: dict) -> None:
    """``UpdateCampaign`` (or an automatic ``$LATEST`` redeploy): record ``latestCampaignUpdate`` and
    walk it to ACTIVE, then switch the campaign to the new version and configuration."""
    now = store.clock.now()
    campaign.record["latestCampaignUpdate"] = {
        "solutionVersionArn": version_arn, "minProvisionedTPS": tps, "campaignConfig": config,
        "creationDateTime": now, "lastUpdatedDateTime": now}

    def finish(reason, at):
        version = resolve(store, version_arn)
        if version is None or version.status != ACTIVE:
            store.touch_update(campaign, "latestCampaignUpdate", at=at, status=lifecycle.CREATE_FAILED,
                               failureReason=f"The solution version {version_arn} is not ACTIVE.")
            return
        campaign.extra["deployed"] = version.arn
        campaign.parent = version.parent
        store.touch_update(campaign, "latestCampaignUpdate", at=at, status=ACTIVE)
        store.touch(campaign, at=at, solutionVersionArn=version_arn, minProvisionedTPS=tps, campaignConfig=config)
        if campaign.status == lifecycle.CREATE_FAILED:  # an update can repair a failed campaign
            campaign.record.pop("failureReason", None)
            store.touch(campaign, at=at, status=ACTIVE)

    store.start(campaign, CREATE_CHAIN, finish=finish, field="latestCampaignUpdate")


def sync_campaigns(store, solution_arn: str) -> None:
    """Redeploy every ACTIVE campaign that follows ``<solution_arn>/$LATEST`` with
    ``syncWithLatestSolutionVersion`` (spec 30 §9.1); one already updating picks the newest at its end."""
    latest = solution_arn + LATEST
    for campaign in store.all("campaign", lambda c: c.record["solutionVersionArn"] == latest):
        rec = campaign.record
        if campaign.status != ACTIVE or not (rec.get("campaignConfig") or {}).get("syncWithLatestSolutionVersion"):
            continue
        if store.transition(campaign, "latestCampaignUpdate") is not None:
            continue
        if campaign.extra.get("deployed") == getattr(resolve_latest(store, solution_arn), "arn", None):
            continue
        start_campaign_update(store, campaign, latest, rec["minProvisionedTPS"], rec.get("campaignConfig") or {})
