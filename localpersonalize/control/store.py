"""The state of one (account, region): every resource, its record, and the data of each dataset group.

A :class:`Resource` keeps its API record (exactly the members its Describe output has: ARN, name, status,
timestamps, configuration) in ``record``; private state (a trained model, a dataset's rows) lives beside
it in ``extra``. All access goes through the store's lock; the protocol layer writes only the members of
the output shape, so a record also serves as the source of its List summary.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..errors import (
    InvalidNextTokenException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from . import arns, lifecycle
from . import tags as tagging


@dataclass
class Resource:
    """One resource: ``kind`` (an ARN kind, e.g. ``solution-version``), its ``arn``, its API ``record``,
    its ``parent`` ARN (dataset group, or solution for versions), its ``tags``, private ``extra`` state and
    ``seq``, its rank in the store's creation order (the stable order of List calls)."""

    kind: str
    arn: str
    record: dict
    parent: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

    @property
    def status(self) -> str | None:
        return self.record.get("status")


class Store:
    """All resources of one account and region (thread-safe through ``lock``).

    Every read (:meth:`get`, :meth:`find`, :meth:`all`) first settles the transitions and timers that are
    due on the clock (``lifecycle.CLOCK`` unless one is injected), so what a caller sees is always current.
    """

    def __init__(self, account_id: str, region: str, clock: lifecycle.Clock | None = None):
        self.account_id = account_id
        self.region = region
        self.clock = clock or lifecycle.CLOCK
        self.lock = threading.RLock()
        self._resources: dict[str, Resource] = {}  # ARN -> resource, in creation order
        self._transitions: dict[tuple[str, str | None], lifecycle.Transition] = {}
        self._timers: dict[Any, tuple[float, Callable[[float], None]]] = {}
        self._local = threading.local()
        self._seq = itertools.count(1)
        #: Set when the store is discarded (moto's reset, at the end of the outermost mock): work still
        #: running in the background for it then fails quietly (its S3 data is gone too).
        self.closed = False
        lifecycle.STORES.add(self)

    # ----- identity
    def arn(self, kind: str, name: str) -> str:
        return arns.arn(self.region, self.account_id, kind, name)

    # ----- create / read / delete
    def create(self, kind: str, arn: str, record: dict, parent: str | None = None,
               tags: Iterable[dict] | None = None, status: str | None = lifecycle.CREATE_PENDING) -> Resource:
        """Add a resource, stamping ``creationDateTime``/``lastUpdatedDateTime`` and ``status``.

        Raises:
            ResourceAlreadyExistsException: ``Another resource with Arn <arn> already exists.``
            InvalidInputException, TooManyTagsException: ``tags`` break the tagging rules (control/tags.py).
        """
        with self.lock:
            self.settle()
            if arn in self._resources:
                raise ResourceAlreadyExistsException(f"Another resource with Arn {arn} already exists.")
            resource_tags = tagging.merged({}, tags or ())
            now = self.clock.now()
            record = dict(record, creationDateTime=now, lastUpdatedDateTime=now)
            if status is not None:
                record["status"] = status
            res = Resource(kind, arn, record, parent, resource_tags, seq=next(self._seq))
            self._resources[arn] = res
            return res

    def get(self, kind: str, arn: str) -> Resource:
        """The resource of ``kind`` at ``arn``.

        Raises:
            ResourceNotFoundException: ``The given <kind words> does not exist: <arn>``, also when ``arn``
                names a resource of another kind (a solution ARN where a version is needed).
        """
        with self.lock:
            self.settle()
            res = self._resources.get(arn)
            if res is None or res.kind != kind:
                raise ResourceNotFoundException(f"The given {arns.KINDS[kind]} does not exist: {arn}")
            return res

    def find(self, arn: str) -> Resource | None:
        """Any resource at ``arn``, whatever its kind."""
        with self.lock:
            self.settle()
            return self._resources.get(arn)

    def all(self, kind: str, where: Callable[[Resource], bool] | None = None) -> list[Resource]:
        """Resources of ``kind`` in creation order, optionally filtered by ``where``."""
        with self.lock:
            self.settle()
            return [r for r in self._resources.values() if r.kind == kind and (where is None or where(r))]

    def remove(self, res: Resource) -> None:
        """Forget ``res``, its transitions and its timers (keys ``(arn, ...)``), and so every resource under
        it: jobs go with their dataset, dataset group or solution version, as in the service."""
        with self.lock:
            self._resources.pop(res.arn, None)
            for child in [r for r in self._resources.values() if r.parent == res.arn]:
                self.remove(child)
            for key in [k for k in self._transitions if k[0] == res.arn]:
                del self._transitions[key]
            for key in [k for k in self._timers if isinstance(k, tuple) and k[0] == res.arn]:
                del self._timers[key]

    def touch(self, res: Resource, at: float | None = None, **fields) -> None:
        """Update record fields and ``lastUpdatedDateTime`` (``at``, default now)."""
        with self.lock:
            res.record.update(fields)
            res.record["lastUpdatedDateTime"] = self.clock.now() if at is None else at

    def touch_update(self, res: Resource, field: str, at: float | None = None, **fields) -> None:
        """Update the sub-record ``field`` of ``res`` (``latestCampaignUpdate``...) and its
        ``lastUpdatedDateTime``."""
        with self.lock:
            sub = res.record.setdefault(field, {})
            sub.update(fields)
            sub["lastUpdatedDateTime"] = self.clock.now() if at is None else at

    # ----- transitions (see lifecycle.Transition) and timers
    def start(self, res: Resource, statuses, work=None, finish=None, field: str | None = None,
              at: float | None = None) -> None:
        """Put ``res`` (or its update sub-record ``field``) in ``statuses[0]`` and walk it through
        ``statuses`` at the pace of :data:`lifecycle.PACING`; ``work`` runs on a worker thread in the last
        status; ``finish(reason, at)`` applies the end (``reason`` ``None`` on success). A transition already
        in progress on the same status is replaced (its work's outcome is then ignored)."""
        with self.lock:
            at = self.clock.now() if at is None else at
            self._set_status(res, field, statuses[0], at)
            t = lifecycle.Transition(res, statuses, work, finish or (lambda reason, at: None), field,
                                     at + lifecycle.PACING.duration(res.kind, statuses[0]))
            self._transitions[(res.arn, field)] = t
            if t.at_last and work is not None:
                lifecycle.start_work(self, t)
            self.settle()

    def transition(self, res: Resource, field: str | None = None) -> "lifecycle.Transition | None":
        """The transition in progress on ``res`` (or its sub-record ``field``), if any."""
        with self.lock:
            return self._transitions.get((res.arn, field))

    def cancel(self, res: Resource, field: str | None = None) -> None:
        """Drop the transition in progress on ``res``/``field`` (its work's outcome will be ignored)."""
        with self.lock:
            self._transitions.pop((res.arn, field), None)

    def schedule(self, key, due: float, fire) -> None:
        """Call ``fire(at)`` under the lock once the clock reaches ``due`` (epoch seconds); one timer per
        ``key`` (a new one replaces the old). Timers run in every pacing (automatic training)."""
        with self.lock:
            self._timers[key] = (due, fire)

    def unschedule(self, key) -> None:
        with self.lock:
            self._timers.pop(key, None)

    def timer(self, key) -> float | None:
        """When the timer ``key`` fires next (epoch seconds), or None."""
        with self.lock:
            entry = self._timers.get(key)
            return entry[0] if entry else None

    def _set_status(self, res: Resource, field: str | None, status: str, at: float) -> None:
        if field is None:
            self.touch(res, at=at, status=status)
        else:
            self.touch_update(res, field, at=at, status=status)

    def _advance(self, t: "lifecycle.Transition", at: float) -> None:
        """Move ``t`` one status on (or finish it)."""
        if not t.at_last:
            t.index += 1
            self._set_status(t.res, t.field, t.status, at)
            t.due = at + lifecycle.PACING.duration(t.res.kind, t.status)
            if t.at_last and t.work is not None:
                lifecycle.start_work(self, t)
            return
        self._transitions.pop((t.res.arn, t.field), None)
        t.finish(None if t.work is None else t.outcome, at)

    def _next_event(self, now: float):
        """The earliest due event: ("t", transition) or ("timer", key), or None."""
        best = None
        if lifecycle.PACING.mode != "stepped":
            for t in self._transitions.values():
                if not t.blocked:
                    due = max(t.due, t.done_at) if t.work is not None and t.at_last else t.due
                    if due <= now and (best is None or due < best[0]):
                        best = (due, "t", t)
        for key, (due, _) in self._timers.items():
            if due <= now and (best is None or due < best[0]):
                best = (due, "timer", key)
        return best

    def settle(self, wait: bool = False) -> None:
        """Apply every transition step and timer that is due on the clock, in time order (each stamped
        with its due time in timed pacing). ``wait``: also wait for work that blocks a due step (used
        when the clock is advanced, so that advancing a week trains, deploys and re-schedules in order)."""
        if getattr(self._local, "settling", False):
            return  # a finish or timer of this very settle reads the store
        self._local.settling = True
        try:
            while True:
                with self.lock:
                    now = self.clock.now()
                    event = self._next_event(now)
                    if event is not None:
                        due, what, obj = event
                        at = due if lifecycle.PACING.mode == "timed" else now
                        if what == "t":
                            self._advance(obj, at)
                        else:
                            _, fire = self._timers.pop(obj)
                            fire(due)
                        continue
                    if not wait or lifecycle.PACING.mode == "stepped":
                        return
                    blocked = [t.future for t in self._transitions.values()
                               if t.blocked and t.due <= now and t.future is not None]
                    if not blocked:
                        return
                blocked[0].result()  # outside the lock: the worker records its outcome under it
        finally:
            self._local.settling = False

    def step(self, res: Resource) -> None:
        """Stepped pacing: advance every transition of ``res`` by one status (waiting for its work when
        the next step needs it). No-op in the other pacings."""
        if lifecycle.PACING.mode != "stepped":
            return
        with self.lock:
            chains = [t for (arn, _), t in self._transitions.items() if arn == res.arn]
        for t in chains:
            if t.blocked and t.future is not None:
                t.future.result()
            with self.lock:
                if self._transitions.get((t.res.arn, t.field)) is t:
                    self._advance(t, self.clock.now())

    def describe(self, kind: str, arn: str) -> tuple[Resource, dict]:
        """A Describe: the resource and a snapshot of its record, after which stepped pacing advances it.

        Raises:
            ResourceNotFoundException: as :meth:`get`.
        """
        res = self.get(kind, arn)
        with self.lock:
            snapshot = copy.deepcopy(res.record)
        self.step(res)
        return res, snapshot


_TOKEN_KEY = secrets.token_bytes(16)


def _sign(payload: bytes) -> str:
    return hmac.new(_TOKEN_KEY, payload, hashlib.sha256).hexdigest()[:16]


def paginate(items: list, params: dict, default_max: int = 100, keys: list | None = None,
             scope: str = "") -> tuple[list, str | None]:
    """One page of ``items`` (in listing order) for a List call's ``maxResults`` and ``nextToken``.

    ``keys``: one stable, increasing key per item (default: the position); a token remembers the last key
    served, so items created or deleted between two pages neither repeat nor shift the rest. ``scope``
    names the listing (operation and filters): a token is valid only for the listing that issued it.
    Tokens are opaque (base64 of the position, signed).

    Raises:
        InvalidNextTokenException: for a token this emulator did not issue for this listing.
    """
    keys = list(range(len(items))) if keys is None else keys
    size = params.get("maxResults") or default_max
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            payload, sig = token.rsplit(".", 1)
            raw = base64.urlsafe_b64decode(payload.encode())
            if not hmac.compare_digest(sig, _sign(raw)):
                raise ValueError
            state = json.loads(raw)
            if state["s"] != hashlib.sha256(scope.encode()).hexdigest()[:12]:
                raise ValueError
            after = state["k"]
            start = next((i for i, k in enumerate(keys) if k > after), len(items))
        except (ValueError, KeyError, TypeError):
            raise InvalidNextTokenException("The token provided is not valid.") from None
    page = items[start:start + size]
    nxt = None
    if start + size < len(items):
        raw = json.dumps({"k": keys[start + size - 1], "s": hashlib.sha256(scope.encode()).hexdigest()[:12]}).encode()
        nxt = base64.urlsafe_b64encode(raw).decode() + "." + _sign(raw)
    return page, nxt
