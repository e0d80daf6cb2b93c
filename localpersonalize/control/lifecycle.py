"""Statuses, the one clock, pacing, and the transitions that walk a resource through its state machine.

Every status change of every resource goes through a :class:`Transition`: a chain of statuses (e.g.
``CREATE PENDING -> CREATE IN_PROGRESS``) held on the resource's ``status`` or on one of its update
sub-records (``latestCampaignUpdate``...), optional *work* (reading an import's CSV, training) that runs on
a worker thread while the transition sits in its last status, and a *finish* that applies the end
(``ACTIVE``/``CREATE FAILED``, removal for a delete, ``INACTIVE`` for a stop...). Statuses are spelled as
the API reference spells them (spec 30 "State machine table", note U1).

When a transition moves is decided by the :class:`Pacing` (one per process, like the clock):

* ``immediate`` (default): a status moves as soon as it can: at once without work, when the work is done
  with it. A polling loop sees ``ACTIVE`` on its first poll after the work.
* ``stepped``: each Describe of the resource shows its current status, then advances it one status (for
  tests of polling code: the client sees ``CREATE PENDING``, ``CREATE IN_PROGRESS``, ``ACTIVE``).
* ``timed``: each status lasts a per-resource duration of clock time (``durations``, seconds), and a work
  status lasts at least until the work is done.

Automatic training (control/solutions.py) is scheduled on the same :data:`CLOCK`, whatever the pacing.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

log = logging.getLogger("localpersonalize")

CREATE_PENDING = "CREATE PENDING"
CREATE_IN_PROGRESS = "CREATE IN_PROGRESS"
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE FAILED"
CREATE_STOPPING = "CREATE STOPPING"
CREATE_STOPPED = "CREATE STOPPED"
DELETE_PENDING = "DELETE PENDING"
DELETE_IN_PROGRESS = "DELETE IN_PROGRESS"
STOP_PENDING = "STOP PENDING"
STOP_IN_PROGRESS = "STOP IN_PROGRESS"
INACTIVE = "INACTIVE"
START_PENDING = "START PENDING"
START_IN_PROGRESS = "START IN_PROGRESS"

#: The create chain of every resource (spec 30 "State machine table").
CREATE_CHAIN = (CREATE_PENDING, CREATE_IN_PROGRESS)
#: The delete chain of datasets, solutions, campaigns, recommenders (dataset groups: DELETE PENDING only).
DELETE_CHAIN = (DELETE_PENDING, DELETE_IN_PROGRESS)

#: Statuses in which a resource's creation work is still to be done.
PENDING_OR_RUNNING = frozenset({CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_STOPPING})
#: Statuses of a resource that is on its way out.
DELETING = frozenset({DELETE_PENDING, DELETE_IN_PROGRESS})
#: Statuses in which a resource is between two stable statuses (any chain in progress).
IN_TRANSITION = PENDING_OR_RUNNING | DELETING | {STOP_PENDING, STOP_IN_PROGRESS, START_PENDING,
                                                  START_IN_PROGRESS, "PENDING", "IN PROGRESS", "IN_PROGRESS"}
#: Statuses that count against "active resources" quotas (spec 60 §3.3): not failed, stopped or deleting.
COUNTS_AS_ACTIVE = frozenset({CREATE_PENDING, CREATE_IN_PROGRESS, ACTIVE, STOP_PENDING, STOP_IN_PROGRESS,
                              INACTIVE, START_PENDING, START_IN_PROGRESS, None})


class Clock:
    """The one clock of the emulator: epoch seconds (float).

    Real time plus an offset that :meth:`advance` and :meth:`set` move; :meth:`freeze` stops it so that
    only :meth:`advance` moves time (deterministic tests of timed pacing and automatic training).
    """

    def __init__(self):
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        return self._frozen_at if self._frozen_at is not None else time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (≥ 0)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def set(self, epoch_seconds: float) -> None:
        """Jump to ``epoch_seconds`` (frozen clocks stay frozen at that instant)."""
        if self._frozen_at is not None:
            self._frozen_at = float(epoch_seconds)
        else:
            self._offset = float(epoch_seconds) - time.time()

    def freeze(self, frozen: bool = True) -> None:
        """Stop (``True``) or restart (``False``) the clock where it is."""
        now = self.now()
        if frozen:
            self._frozen_at = now
        else:
            self._frozen_at = None
            self._offset = now - time.time()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def reset(self) -> None:
        """Back to real time."""
        self._offset, self._frozen_at = 0.0, None


MODES = ("immediate", "stepped", "timed")

#: Default seconds per intermediate status in timed pacing, per resource kind (``default`` for the rest).
DEFAULT_DURATIONS = {"default": 1.0}


class Pacing:
    """How fast transitions move: ``mode`` is one of :data:`MODES`; ``durations`` maps a resource kind
    (``solution-version``), a ``<kind>:<STATUS>`` pair or ``default`` to seconds per status (timed mode)."""

    def __init__(self):
        self.mode = "immediate"
        self.durations: dict[str, float] = dict(DEFAULT_DURATIONS)

    def set(self, mode: str, durations: dict[str, float] | None = None) -> None:
        """Choose the pacing. Raises ValueError for an unknown mode or a negative duration."""
        if mode not in MODES:
            raise ValueError(f"pacing must be one of {', '.join(MODES)}, not {mode!r}")
        merged = dict(DEFAULT_DURATIONS)
        for key, value in (durations or {}).items():
            if float(value) < 0:
                raise ValueError(f"duration of {key} must be ≥ 0 seconds")
            merged[key] = float(value)
        self.mode, self.durations = mode, merged

    def duration(self, kind: str, status: str) -> float:
        """Seconds a ``kind`` resource stays in ``status`` (timed mode; 0 otherwise)."""
        if self.mode != "timed":
            return 0.0
        d = self.durations
        return d.get(f"{kind}:{status}", d.get(kind, d.get("default", 0.0)))

    def reset(self) -> None:
        self.set("immediate")


#: The process-wide clock and pacing (the Python API is control/clock.py; stores take the clock).
CLOCK = Clock()
PACING = Pacing()


class FailedWork(Exception):
    """Raised by a resource's work to end it in ``CREATE FAILED`` with ``reason`` as its ``failureReason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_NOT_DONE = object()


class Transition:
    """One chain of statuses in progress on ``res`` (a :class:`~.store.Resource`).

    ``statuses``: the statuses walked in order; ``field``: ``None`` for the resource's own ``status``,
    or the name of an update sub-record (``latestCampaignUpdate``) whose ``status`` moves; ``work``: a
    callable run on a worker thread once the last status is reached (raise :class:`FailedWork` to fail);
    ``finish(reason, at)``: applies the end, ``reason`` being ``None`` on success or the failure reason,
    ``at`` the epoch seconds of the change. Created and driven by :meth:`~.store.Store.start`.
    """

    def __init__(self, res, statuses, work, finish, field, due):
        self.res = res
        self.statuses = tuple(statuses)
        self.index = 0
        self.work = work
        self.finish = finish
        self.field = field
        self.due = due
        self.future: Future | None = None
        self.outcome = _NOT_DONE  # None or a failure reason once the work is done
        self.done_at = 0.0

    @property
    def status(self) -> str:
        return self.statuses[self.index]

    @property
    def at_last(self) -> bool:
        return self.index == len(self.statuses) - 1

    @property
    def blocked(self) -> bool:
        """True while the work of the last status still runs."""
        return self.at_last and self.work is not None and self.outcome is _NOT_DONE


_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="localpersonalize-work")
_pending: set[Future] = set()
_pending_lock = threading.Lock()
#: Every live store, so that advancing the clock settles them all.
STORES: "weakref.WeakSet" = weakref.WeakSet()


def start_work(store, t: Transition) -> None:
    """Run ``t.work`` on a worker thread; record its outcome and let the store settle when it ends."""

    def job():
        try:
            try:
                t.work()
                outcome = None
            except FailedWork as exc:
                outcome = exc.reason
            except Exception as exc:  # a bug of ours: the resource fails with a reason, never hangs
                if not getattr(store, "closed", False):  # else the mock ended under the work: not a bug
                    log.exception("work for %s failed", t.res.arn)
                outcome = f"Internal error: {exc!r}"
            with store.lock:
                t.outcome, t.done_at = outcome, store.clock.now()
            store.settle()
        finally:
            with _pending_lock:
                _pending.discard(future)

    with _pending_lock:
        future = _pool.submit(job)
        _pending.add(future)
    t.future = future


def run_work(resource, store, work: Callable[[], None] | None, done_status: str = ACTIVE,
             statuses: tuple[str, ...] = CREATE_CHAIN, failed_status: str = CREATE_FAILED,
             on_done: Callable[[str | None], None] | None = None) -> None:
    """Walk a newly created ``resource`` through its create chain while ``work()`` runs.

    The one entry point for a resource's background work: the resource goes through ``statuses``
    (``CREATE PENDING -> CREATE IN_PROGRESS`` by default) at the pace of :data:`PACING`; ``work`` (or
    nothing, when ``None``) runs on a worker thread in the last of them; then the resource ends in
    ``done_status``, or in ``failed_status`` with ``failureReason`` when the work raised
    :class:`FailedWork` (any other exception, a bug of ours, fails it too with its text as the reason).
    ``on_done(reason)`` runs after that under the store lock (``reason`` ``None`` on success).
    """

    def finish(reason, at):
        if reason is None:
            store.touch(resource, at=at, status=done_status)
        else:
            store.touch(resource, at=at, status=failed_status, failureReason=reason)
        if on_done is not None:
            on_done(reason)

    store.start(resource, statuses, work=work, finish=finish)


def wait_idle(timeout: float = 600.0) -> bool:
    """Block until no background work is pending (for tests and the demo). True when idle."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with _pending_lock:
            if not _pending:
                return True
        time.sleep(0.01)
    return False


def settle_all(wait: bool = True) -> None:
    """Apply every transition and scheduled event that is due on :data:`CLOCK` in every store."""
    for store in list(STORES):
        store.settle(wait=wait)
