"""The state of one (account, region): every resource, its record, and the data of each dataset group.

A :class:`Resource` keeps its API record (exactly the members its Describe output has: ARN, name, status,
timestamps, configuration) in ``record``; private state (a trained model, a dataset's rows) lives beside
it in ``extra``. All access goes through the store's lock; the protocol layer writes only the members of
the output shape, so a record also serves as the source of its List summary.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..errors import (
    InvalidNextTokenException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from . import arns, lifecycle


@dataclass
class Resource:
    """One resource: ``kind`` (an ARN kind, e.g. ``solution-version``), its ``arn``, its API ``record``,
    its ``parent`` ARN (dataset group, or solution for versions), its ``tags`` and private ``extra`` state."""

    kind: str
    arn: str
    record: dict
    parent: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str | None:
        return self.record.get("status")


class Store:
    """All resources of one account and region (thread-safe through ``lock``)."""

    def __init__(self, account_id: str, region: str, clock: lifecycle.Clock | None = None):
        self.account_id = account_id
        self.region = region
        self.clock = clock or lifecycle.Clock()
        self.lock = threading.RLock()
        self._resources: dict[str, Resource] = {}  # ARN -> resource, in creation order

    # ----- identity
    def arn(self, kind: str, name: str) -> str:
        return arns.arn(self.region, self.account_id, kind, name)

    # ----- create / read / delete
    def create(self, kind: str, arn: str, record: dict, parent: str | None = None,
               tags: Iterable[dict] | None = None, status: str | None = lifecycle.CREATE_PENDING) -> Resource:
        """Add a resource, stamping ``creationDateTime``/``lastUpdatedDateTime`` and ``status``.

        Raises:
            ResourceAlreadyExistsException: ``Another resource with Arn <arn> already exists.``
        """
        with self.lock:
            if arn in self._resources:
                raise ResourceAlreadyExistsException(f"Another resource with Arn {arn} already exists.")
            now = self.clock.now()
            record = dict(record, creationDateTime=now, lastUpdatedDateTime=now)
            if status is not None:
                record["status"] = status
            res = Resource(kind, arn, record, parent, {t["tagKey"]: t["tagValue"] for t in tags or ()})
            self._resources[arn] = res
            return res

    def get(self, kind: str, arn: str) -> Resource:
        """The resource of ``kind`` at ``arn``.

        Raises:
            ResourceNotFoundException: ``The given <kind words> does not exist: <arn>``, also when ``arn``
                names a resource of another kind (a solution ARN where a version is needed).
        """
        with self.lock:
            res = self._resources.get(arn)
            if res is None or res.kind != kind:
                raise ResourceNotFoundException(f"The given {arns.KINDS[kind]} does not exist: {arn}")
            return res

    def find(self, arn: str) -> Resource | None:
        """Any resource at ``arn``, whatever its kind."""
        with self.lock:
            return self._resources.get(arn)

    def all(self, kind: str, where: Callable[[Resource], bool] | None = None) -> list[Resource]:
        """Resources of ``kind`` in creation order, optionally filtered by ``where``."""
        with self.lock:
            return [r for r in self._resources.values() if r.kind == kind and (where is None or where(r))]

    def remove(self, res: Resource) -> None:
        with self.lock:
            self._resources.pop(res.arn, None)

    def touch(self, res: Resource, **fields) -> None:
        """Update record fields and ``lastUpdatedDateTime``."""
        with self.lock:
            res.record.update(fields)
            res.record["lastUpdatedDateTime"] = self.clock.now()

    # ----- lifecycle hooks used by lifecycle.run_work
    def begin(self, res: Resource) -> bool:
        """``CREATE PENDING -> CREATE IN_PROGRESS``; False when the resource was stopped or removed."""
        with self.lock:
            if res.status != lifecycle.CREATE_PENDING or self._resources.get(res.arn) is not res:
                return False
            self.touch(res, status=lifecycle.CREATE_IN_PROGRESS)
            return True

    def finish(self, res: Resource, status: str, failure_reason: str | None = None) -> None:
        """End the work: ``status`` (or ``CREATE STOPPED`` when a stop was asked meanwhile)."""
        with self.lock:
            if res.status == lifecycle.CREATE_STOPPING:
                status, failure_reason = lifecycle.CREATE_STOPPED, None
            fields = {"status": status}
            if failure_reason:
                fields["failureReason"] = failure_reason
            self.touch(res, **fields)


def paginate(items: list, params: dict, default_max: int = 100) -> tuple[list, str | None]:
    """One page of ``items`` for a List call's ``maxResults`` and opaque ``nextToken``.

    Raises:
        InvalidNextTokenException: for a token this emulator did not issue for this listing.
    """
    size = params.get("maxResults") or default_max
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
            start = int(state["offset"])
            if state.get("n") is None or start < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise InvalidNextTokenException("The token provided is not valid.") from None
    page = items[start:start + size]
    nxt = None
    if start + size < len(items):
        nxt = base64.urlsafe_b64encode(json.dumps({"offset": start + size, "n": len(items)}).encode()).decode()
    return page, nxt
