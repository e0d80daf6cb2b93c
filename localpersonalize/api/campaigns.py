"""Campaigns: a deployed solution version that serves real-time requests (spec 30 §9).

Deployments and ``$LATEST`` redeploys run in control/workflow.py.
"""

from __future__ import annotations

from ..control import quotas, workflow
from ..control.lifecycle import ACTIVE, COUNTS_AS_ACTIVE, CREATE_FAILED, PENDING_OR_RUNNING
from ..control.workflow import LATEST, resolve_latest
from ..errors import InvalidInputException, ResourceInUseException
from . import operation
from .common import bool_param, check_item_exploration_config, delete, describe_record, list_children, not_busy


def _config(p: dict) -> dict:
    config = dict(p.get("campaignConfig") or {})
    check_item_exploration_config(config.get("itemExplorationConfig"), "campaignConfig")
    for key in ("syncWithLatestSolutionVersion", "enableMetadataWithRecommendations"):
        if key in config:
            config[key] = bool_param(config[key])
    return config


def _check_version(store, version_arn: str, config: dict):
    """The version rules of CreateCampaign/UpdateCampaign (spec 30 §9.1): a concrete ACTIVE version, or
    ``<solution ARN>/$LATEST`` exactly when ``syncWithLatestSolutionVersion`` is true. Returns the solution
    Resource.

    Raises:
        ResourceNotFoundException: the version (or the solution of ``$LATEST``) does not exist.
        ResourceInUseException: the version is still being created.
        InvalidInputException: the version failed or stopped, or ``$LATEST`` and the sync flag disagree.
    """
    sync = bool(config.get("syncWithLatestSolutionVersion"))
    if version_arn.endswith(LATEST):
        if not sync:
            raise InvalidInputException(
                "A solutionVersionArn ending in /$LATEST needs campaignConfig.syncWithLatestSolutionVersion=true.")
        solution = store.get("solution", version_arn[: -len(LATEST)])
        if resolve_latest(store, solution.arn) is None:
            raise InvalidInputException(f"Solution {solution.arn} has no ACTIVE solution version to deploy.")
        return solution
    if sync:
        raise InvalidInputException(
            "syncWithLatestSolutionVersion=true needs a solutionVersionArn of the form <solution ARN>/$LATEST.")
    version = store.get("solution-version", version_arn)
    if version.status in PENDING_OR_RUNNING:
        raise ResourceInUseException(f"The solution version {version_arn} is still {version.status}.")
    if version.status != ACTIVE:
        raise InvalidInputException(f"The solution version {version_arn} is not ACTIVE (status: {version.status}).")
    return store.get("solution", version.parent)


def deployed_version(store, campaign):
    """The solution version a campaign serves now (its last ACTIVE deployment), or None."""
    arn = campaign.extra.get("deployed")
    return store.find(arn) if arn else None


@operation("CreateCampaign")
def create_campaign(ctx, p):
    """A concrete ACTIVE version or `<solution>/$LATEST` with `syncWithLatestSolutionVersion`; quota of
    active campaigns per dataset group."""
    store = ctx.store
    with store.lock:
        config = _config(p)
        solution = _check_version(store, p["solutionVersionArn"], config)
        arn = store.arn("campaign", p["name"])
        if store.find(arn) is None:
            in_group = [c for c in store.all("campaign", lambda c: c.status in COUNTS_AS_ACTIVE)
                        if getattr(store.find(c.parent), "parent", None) == solution.parent]
            quotas.check("active_campaigns_per_dataset_group", len(in_group))
        record = {"name": p["name"], "campaignArn": arn, "solutionVersionArn": p["solutionVersionArn"],
                  "minProvisionedTPS": p.get("minProvisionedTPS") or 1, "campaignConfig": config}
        campaign = store.create("campaign", arn, record, parent=solution.arn, tags=p.get("tags"))
        workflow.deploy(store, campaign, campaign.record["creationDateTime"])
    return {"campaignArn": arn}


@operation("DescribeCampaign")
def describe_campaign(ctx, p):
    """Every field, with `latestCampaignUpdate` once updated (or redeployed by `$LATEST` sync)."""
    return describe_record(ctx, p, "campaign", "campaign")


@operation("ListCampaigns")
def list_campaigns(ctx, p):
    """Filter by `solutionArn`; newest first, opaque tokens."""
    return list_children(ctx, p, "campaign", "campaigns", "solutionArn")


@operation("UpdateCampaign")
def update_campaign(ctx, p):
    """New version, `minProvisionedTPS` or config through `latestCampaignUpdate`; serves the old version
    until the update is ACTIVE."""
    store = ctx.store
    with store.lock:
        campaign = store.get("campaign", p["campaignArn"])
        if campaign.status not in (ACTIVE, CREATE_FAILED):
            raise ResourceInUseException(
                f"The campaign {campaign.arn} is {campaign.status}; it must be ACTIVE or CREATE FAILED to update.")
        if store.transition(campaign, "latestCampaignUpdate") is not None:
            raise ResourceInUseException(f"An update of campaign {campaign.arn} is already in progress.")
        rec = campaign.record
        config = dict(rec.get("campaignConfig") or {}, **_config(p))
        version_arn = p.get("solutionVersionArn") or rec["solutionVersionArn"]
        _check_version(store, version_arn, config)
        tps = p.get("minProvisionedTPS") or rec["minProvisionedTPS"]
        workflow.start_campaign_update(store, campaign, version_arn, tps, config)
    return {"campaignArn": campaign.arn}


@operation("DeleteCampaign")
def delete_campaign(ctx, p):
    """DELETE PENDING > DELETE IN_PROGRESS > gone; refused while it is being created."""
    store = ctx.store
    with store.lock:
        campaign = store.get("campaign", p["campaignArn"])
        not_busy(campaign, "campaign")
        delete(store, campaign, "campaign")
    return {}
