"""Recommenders: domain use cases that Personalize trains and serves itself (spec 30 §5)."""

from __future__ import annotations

from ..control import lifecycle, training
from ..control.lifecycle import ACTIVE, INACTIVE
from ..errors import InvalidInputException
from . import operation
from .common import bool_param, list_page, require_active
from .solutions import recipe_for


def _config(p: dict) -> dict:
    config = dict(p.get("recommenderConfig") or {})
    config.setdefault("minRecommendationRequestsPerSecond", 1)
    if "enableMetadataWithRecommendations" in config:
        config["enableMetadataWithRecommendations"] = bool_param(config["enableMetadataWithRecommendations"])
    excluded = (config.get("trainingDataConfig") or {}).get("excludedDatasetColumns") or {}
    if any("EVENT_TYPE" in cols for cols in excluded.values()):
        raise InvalidInputException("EVENT_TYPE cannot be excluded from training (excludedDatasetColumns).")
    return config


@operation("CreateRecommender")
def create_recommender(ctx, p):
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
        arn = store.arn("recommender", p["name"])
        record = {"name": p["name"], "recommenderArn": arn, "datasetGroupArn": group.arn,
                  "recipeArn": recipe.arn, "recommenderConfig": _config(p)}
        rec = store.create("recommender", arn, record, parent=group.arn, tags=p.get("tags"))

    def work():
        trained = training.train(recipe, group.extra["data"], recipe.training_event_type, None)
        rec.extra["trained"] = trained
        store.touch(rec, modelMetrics=trained.metrics)

    lifecycle.run_work(rec, store, work)
    return {"recommenderArn": arn}


@operation("DescribeRecommender")
def describe_recommender(ctx, p):
    return {"recommender": ctx.store.get("recommender", p["recommenderArn"]).record}


@operation("ListRecommenders")
def list_recommenders(ctx, p):
    where = (lambda r: r.parent == p["datasetGroupArn"]) if p.get("datasetGroupArn") else None
    return list_page(ctx.store.all("recommender", where), p, "recommenders")


@operation("DeleteRecommender")
def delete_recommender(ctx, p):
    store = ctx.store
    with store.lock:
        rec = store.get("recommender", p["recommenderArn"])
        if rec.status in lifecycle.PENDING_OR_RUNNING:
            raise InvalidInputException(f"Recommender {rec.arn} is {rec.status}; wait until it is ACTIVE.")
        store.remove(rec)
    return {}


@operation("StopRecommender")
def stop_recommender(ctx, p):
    store = ctx.store
    with store.lock:
        rec = store.get("recommender", p["recommenderArn"])
        if rec.status != ACTIVE:
            raise InvalidInputException(f"Only an ACTIVE recommender can be stopped; {rec.arn} is {rec.status}.")
        store.touch(rec, status=INACTIVE)
    return {"recommenderArn": rec.arn}


@operation("StartRecommender")
def start_recommender(ctx, p):
    store = ctx.store
    with store.lock:
        rec = store.get("recommender", p["recommenderArn"])
        if rec.status != INACTIVE:
            raise InvalidInputException(f"Only an INACTIVE recommender can be started; {rec.arn} is {rec.status}.")
        store.touch(rec, status=ACTIVE)
    return {"recommenderArn": rec.arn}
