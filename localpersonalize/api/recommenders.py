"""Recommenders: domain use cases that Personalize trains and serves itself (spec 30 §5)."""

from __future__ import annotations

from ..control import lifecycle, quotas, training, workflow
from ..control.lifecycle import ACTIVE, CREATE_CHAIN, INACTIVE
from ..errors import InvalidInputException, ResourceInUseException
from . import operation
from .common import (bool_param, check_item_exploration_config, delete, describe_record, list_children, not_busy,
                     require_active)
from .solutions import recipe_for


def _config(config: dict | None) -> dict:
    config = dict(config or {})
    config.setdefault("minRecommendationRequestsPerSecond", 1)
    check_item_exploration_config(config.get("itemExplorationConfig"), "recommenderConfig")
    if "enableMetadataWithRecommendations" in config:
        config["enableMetadataWithRecommendations"] = bool_param(config["enableMetadataWithRecommendations"])
    excluded = (config.get("trainingDataConfig") or {}).get("excludedDatasetColumns") or {}
    if any("EVENT_TYPE" in cols for cols in excluded.values()):
        raise InvalidInputException("EVENT_TYPE cannot be excluded from training (excludedDatasetColumns).")
    return config


@operation("CreateRecommender")
def create_recommender(ctx, p):
    """Domain use cases of the group's domain, trained on its data (`modelMetrics`); quota per dataset group."""
    store = ctx.store
    with store.lock:
        group = store.get("dataset-group", p["datasetGroupArn"])
        require_active(group, "dataset group")
        recipe = recipe_for(p["recipeArn"])
        domain = group.record.get("domain")
        if not domain:
            raise InvalidInputException(
                f"Recommenders need a domain dataset group; {group.arn} is a custom dataset group.")
        if recipe.domain != domain:
            raise InvalidInputException(
                f"The recipe {recipe.arn} is not a use case of the {domain} domain.")
        config = _config(p.get("recommenderConfig"))
        arn = store.arn("recommender", p["name"])
        if store.find(arn) is None:
            quotas.check("recommenders_per_dataset_group",
                         len(store.all("recommender", lambda r: r.parent == group.arn)))
        record = {"name": p["name"], "recommenderArn": arn, "datasetGroupArn": group.arn,
                  "recipeArn": recipe.arn, "recommenderConfig": config}
        rec = store.create("recommender", arn, record, parent=group.arn, tags=p.get("tags"))
        rec.extra["columns"] = training.metadata_columns(group.extra["data"])  # new ones: not trained on
        holder, work = workflow.recommender_trainer(store, rec)

        def on_done(reason):
            if reason is None:
                workflow.serve_trained(store, rec, holder)
                workflow.schedule_recommender_retraining(store, rec, rec.record["lastUpdatedDateTime"])

        lifecycle.run_work(rec, store, work, on_done=on_done)
    return {"recommenderArn": arn}


@operation("DescribeRecommender")
def describe_recommender(ctx, p):
    """Every field, with `modelMetrics` and `latestRecommenderUpdate`."""
    return describe_record(ctx, p, "recommender", "recommender")


@operation("ListRecommenders")
def list_recommenders(ctx, p):
    """Filter by `datasetGroupArn`; newest first, opaque tokens."""
    return list_children(ctx, p, "recommender", "recommenders", "datasetGroupArn")


@operation("UpdateRecommender")
def update_recommender(ctx, p):
    """New `recommenderConfig` through `latestRecommenderUpdate`; a change of the training columns
    retrains; serves the old model and config until the update is ACTIVE."""
    store = ctx.store
    with store.lock:
        rec = store.get("recommender", p["recommenderArn"])
        not_busy(rec, "recommender")
        require_active(rec, "recommender", InvalidInputException)
        if store.transition(rec, "latestRecommenderUpdate") is not None:
            raise ResourceInUseException(f"An update of recommender {rec.arn} is already in progress.")
        old = rec.record["recommenderConfig"]
        config = _config(dict(old, **p["recommenderConfig"]))
        if config == old:
            return {"recommenderArn": rec.arn}  # nothing changes: no update (spec 30 §5.3)
        retrain = config.get("trainingDataConfig") != old.get("trainingDataConfig")
        # a new column config covers every column there is now (guide L16090: how to train on new columns)
        known = training.metadata_columns(store.get("dataset-group", rec.parent).extra["data"])
        holder, work = workflow.recommender_trainer(store, rec, config, known)
        now = store.clock.now()
        rec.record["latestRecommenderUpdate"] = {"recommenderConfig": config, "creationDateTime": now,
                                                 "lastUpdatedDateTime": now}

        def finish(reason, at):
            if reason is not None:
                store.touch_update(rec, "latestRecommenderUpdate", at=at, status=lifecycle.CREATE_FAILED,
                                   failureReason=reason)
                return
            if retrain:
                workflow.serve_trained(store, rec, holder, at)
                rec.extra["columns"] = known
            store.touch_update(rec, "latestRecommenderUpdate", at=at, status=ACTIVE)
            store.touch(rec, at=at, recommenderConfig=config)

        store.start(rec, CREATE_CHAIN, work=work if retrain else None, finish=finish, field="latestRecommenderUpdate")
    return {"recommenderArn": rec.arn}


@operation("DeleteRecommender")
def delete_recommender(ctx, p):
    """DELETE PENDING > DELETE IN_PROGRESS > gone; refused while creating, stopping or starting."""
    store = ctx.store
    with store.lock:
        rec = store.get("recommender", p["recommenderArn"])
        delete(store, rec, "recommender")
    return {}


def _move(ctx, p, source: str, chain: tuple[str, str], target: str, verb: str):
    store = ctx.store
    with store.lock:
        rec = store.get("recommender", p["recommenderArn"])
        not_busy(rec, "recommender")
        if rec.status != source:
            raise InvalidInputException(f"Only an {source} recommender can be {verb}; {rec.arn} is {rec.status}.")

        def finish(reason, at):
            store.touch(rec, at=at, status=target)
            if target == ACTIVE:  # starting resumes the 7-day retraining (guide L10328)
                workflow.schedule_recommender_retraining(store, rec, at)

        store.start(rec, chain, finish=finish)
    return {"recommenderArn": rec.arn}


@operation("StopRecommender")
def stop_recommender(ctx, p):
    """ACTIVE > STOP PENDING > STOP IN_PROGRESS > INACTIVE."""
    return _move(ctx, p, ACTIVE, (lifecycle.STOP_PENDING, lifecycle.STOP_IN_PROGRESS), INACTIVE, "stopped")


@operation("StartRecommender")
def start_recommender(ctx, p):
    """INACTIVE > START PENDING > START IN_PROGRESS > ACTIVE."""
    return _move(ctx, p, INACTIVE, (lifecycle.START_PENDING, lifecycle.START_IN_PROGRESS), ACTIVE, "started")
