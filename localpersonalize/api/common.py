"""Small helpers shared by the handlers: listing with pagination, the ACTIVE-parent rule, refusals of
busy resources, and deletion through the delete chain."""

from __future__ import annotations

import json
import math

from ..control import lifecycle
from ..control.store import Resource, paginate
from ..errors import InvalidInputException, ResourceInUseException


def list_page(resources: list[Resource], params: dict, key: str, default_max: int = 100) -> dict:
    """``{key: [records...], "nextToken": ...}`` for one page, newest first as the service lists them.

    Tokens are bound to the listing (``key`` and the filter parameters) and to the position of the last
    resource served, so resources created meanwhile do not shift later pages (control/store.paginate).
    """
    ordered = list(reversed(resources))
    filters = {k: v for k, v in params.items() if k not in ("nextToken", "maxResults")}
    scope = key + json.dumps(filters, sort_keys=True, default=str)
    page, token = paginate([r.record for r in ordered], params, default_max, [-r.seq for r in ordered], scope)
    return {key: page, "nextToken": token}


def list_children(ctx, params: dict, kind: str, key: str, parent_param: str) -> dict:
    """One page (:func:`list_page`) of the ``kind`` resources, only those under the parent named by
    ``params[parent_param]`` when the request gives it (``datasetGroupArn`` of ListDatasets, ``solutionArn``
    of ListCampaigns...; the List operations' model docs). An unknown parent lists nothing."""
    parent = params.get(parent_param)
    where = (lambda r: r.parent == parent) if parent else None
    return list_page(ctx.store.all(kind, where), params, key)


def describe_record(ctx, params: dict, kind: str, key: str) -> dict:
    """``{key: record}`` for a Describe operation: the ``kind`` resource at ``params[key + "Arn"]`` with its
    current status (:meth:`~..control.store.Store.describe`; stepped pacing advances it one status).

    Raises:
        ResourceNotFoundException: ``The given <kind> does not exist: <arn>``.
    """
    return {key: ctx.store.describe(kind, params[key + "Arn"])[1]}


def require_active(res: Resource, what: str, exc=ResourceInUseException) -> None:
    """Raise ``exc`` unless ``res`` is ACTIVE (spec 30 §14: parents must be ACTIVE)."""
    if res.status != "ACTIVE":
        raise exc(f"The {what} {res.arn} is not in an ACTIVE state (status: {res.status}).")


def not_busy(res: Resource, what: str) -> None:
    """Raise ``ResourceInUseException`` while ``res`` is between two stable statuses (creating, deleting,
    stopping, starting: spec 30 §14 "Delete of a resource in CREATE PENDING / IN_PROGRESS")."""
    if res.status in lifecycle.IN_TRANSITION:
        raise ResourceInUseException(f"The {what} {res.arn} is in {res.status} status; wait until it is done.")


def no_children(store, res: Resource, kinds: tuple[str, ...], what: str) -> None:
    """Raise ``ResourceInUseException`` when resources of ``kinds`` still hang off ``res``."""
    for kind in kinds:
        children = store.all(kind, lambda r: r.parent == res.arn)
        if children:
            raise ResourceInUseException(
                f"Cannot delete {what} {res.arn}: it still has {len(children)} {kind.replace('-', ' ')}(s), "
                f"e.g. {children[0].arn}. Delete them first."
            )


def no_busy_children(store, res: Resource, kinds: tuple[str, ...], what: str) -> None:
    """Raise ``ResourceInUseException`` while a resource of ``kinds`` under ``res`` is still being created
    (e.g. an import job or a solution version in CREATE PENDING / IN_PROGRESS, DeleteDataset docs)."""
    for kind in kinds:
        busy = store.all(kind, lambda r: r.parent == res.arn and r.status in lifecycle.PENDING_OR_RUNNING)
        if busy:
            raise ResourceInUseException(
                f"Cannot delete {what} {res.arn}: {kind.replace('-', ' ')} {busy[0].arn} is {busy[0].status}.")


def delete(store, res: Resource, what: str, chain=lifecycle.DELETE_CHAIN, gone=None) -> None:
    """Start deleting ``res``: ``DELETE PENDING -> DELETE IN_PROGRESS -> (gone)`` at the store's pacing;
    ``gone()`` runs (under the lock) when it disappears, before it is forgotten.

    Raises:
        ResourceInUseException: while ``res`` is being created or is already being deleted.
    """
    not_busy(res, what)

    def finish(reason, at):
        if gone is not None:
            gone()
        store.remove(res)

    store.start(res, chain, finish=finish)


def bool_param(value) -> bool | None:
    """Accept ``True``/``"true"`` alike (the guide's CLI samples pass booleans as strings)."""
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise InvalidInputException(f"Expected a boolean, got {value!r}")
        return value.lower() == "true"
    return value


#: ``itemExplorationConfig`` keys and their ranges: explorationWeight a decimal in [0, 1], explorationItemAgeCutOff
#: days ≥ 1 (spec 20 §B.2, guide L6634-L6637).
EXPLORATION_RANGES = {"explorationWeight": (0.0, 1.0), "explorationItemAgeCutOff": (1.0, math.inf)}


def check_item_exploration_config(config: dict | None, where: str) -> None:
    """Raise ``InvalidInputException`` unless every key of an ``itemExplorationConfig`` string map
    (``where``: ``campaignConfig``, ``recommenderConfig`` or ``batchInferenceJobConfig``) is one of
    :data:`EXPLORATION_RANGES` with a number in its range."""
    for key, value in (config or {}).items():
        if key not in EXPLORATION_RANGES:
            raise InvalidInputException(f"{where}.itemExplorationConfig: unknown key {key!r}; the keys are "
                                        f"{' and '.join(EXPLORATION_RANGES)}.")
        low, high = EXPLORATION_RANGES[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not low <= number <= high:
            bound = f"between {low:g} and {high:g}" if high < math.inf else f"at least {low:g}"
            raise InvalidInputException(f"{where}.itemExplorationConfig.{key} must be a number {bound}; "
                                        f"got {value!r}.")
