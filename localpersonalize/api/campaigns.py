"""Campaigns: a deployed solution version that serves real-time requests (spec 30 §9)."""

from __future__ import annotations

from ..control.lifecycle import ACTIVE
from ..errors import InvalidInputException
from . import operation
from .common import bool_param, list_page

LATEST = "/$LATEST"


def _config(p: dict) -> dict:
    config = dict(p.get("campaignConfig") or {})
    for key in ("syncWithLatestSolutionVersion", "enableMetadataWithRecommendations"):
        if key in config:
            config[key] = bool_param(config[key])
    return config


def _check_version(store, version_arn: str, config: dict) -> None:
    """The version rules of CreateCampaign/UpdateCampaign (spec 30 §9.1): a concrete ACTIVE version, or
    ``<solution ARN>/$LATEST`` exactly when ``syncWithLatestSolutionVersion`` is true."""
    sync = bool(config.get("syncWithLatestSolutionVersion"))
    if version_arn.endswith(LATEST):
        if not sync:
            raise InvalidInputException(
                "A solutionVersionArn ending in /$LATEST needs campaignConfig.syncWithLatestSolutionVersion=true.")
        solution = store.get("solution", version_arn[: -len(LATEST)])
        if resolve_latest(store, solution.arn) is None:
            raise InvalidInputException(f"Solution {solution.arn} has no ACTIVE solution version to deploy.")
        return
    if sync:
        raise InvalidInputException(
            "syncWithLatestSolutionVersion=true needs a solutionVersionArn of the form <solution ARN>/$LATEST.")
    version = store.get("solution-version", version_arn)
    if version.status != ACTIVE:
        raise InvalidInputException(f"The solution version {version_arn} is not ACTIVE (status: {version.status}).")


def resolve_latest(store, solution_arn: str):
    """The newest ACTIVE version of a solution, or None."""
    versions = store.all("solution-version", lambda v: v.parent == solution_arn and v.status == ACTIVE)
    return versions[-1] if versions else None


def deployed_version(store, campaign):
    """The solution version a campaign serves now (``$LATEST`` resolved to the newest ACTIVE version)."""
    arn = campaign.record["solutionVersionArn"]
    if arn.endswith(LATEST):
        return resolve_latest(store, arn[: -len(LATEST)])
    return store.find(arn)


@operation("CreateCampaign")
def create_campaign(ctx, p):
    store = ctx.store
    with store.lock:
        config = _config(p)
        _check_version(store, p["solutionVersionArn"], config)
        arn = store.arn("campaign", p["name"])
        record = {"name": p["name"], "campaignArn": arn, "solutionVersionArn": p["solutionVersionArn"],
                  "minProvisionedTPS": p.get("minProvisionedTPS") or 1, "campaignConfig": config}
        solution_arn = p["solutionVersionArn"].removesuffix(LATEST)
        if not p["solutionVersionArn"].endswith(LATEST):
            solution_arn = store.get("solution-version", solution_arn).parent
        store.create("campaign", arn, record, parent=solution_arn, tags=p.get("tags"), status=ACTIVE)
    return {"campaignArn": arn}


@operation("DescribeCampaign")
def describe_campaign(ctx, p):
    return {"campaign": ctx.store.get("campaign", p["campaignArn"]).record}


@operation("ListCampaigns")
def list_campaigns(ctx, p):
    where = (lambda r: r.parent == p["solutionArn"]) if p.get("solutionArn") else None
    return list_page(ctx.store.all("campaign", where), p, "campaigns")


@operation("UpdateCampaign")
def update_campaign(ctx, p):
    store = ctx.store
    with store.lock:
        campaign = store.get("campaign", p["campaignArn"])
        rec = campaign.record
        config = dict(rec.get("campaignConfig") or {}, **_config(p))
        version_arn = p.get("solutionVersionArn") or rec["solutionVersionArn"]
        _check_version(store, version_arn, config)
        tps = p.get("minProvisionedTPS") or rec["minProvisionedTPS"]
        now = store.clock.now()
        update = {"solutionVersionArn": version_arn, "minProvisionedTPS": tps, "campaignConfig": config,
                  "status": ACTIVE, "creationDateTime": now, "lastUpdatedDateTime": now}
        store.touch(campaign, solutionVersionArn=version_arn, minProvisionedTPS=tps, campaignConfig=config,
                    latestCampaignUpdate=update)
    return {"campaignArn": campaign.arn}


@operation("DeleteCampaign")
def delete_campaign(ctx, p):
    store = ctx.store
    store.remove(store.get("campaign", p["campaignArn"]))
    return {}
