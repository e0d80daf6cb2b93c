"""Status changes, the clock, and the background workers that do a resource's work.

Every Create* answers at once; the work (reading an import's CSV, training a solution version) runs on a
worker thread, and the resource moves ``CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE | CREATE FAILED``
(statuses exactly as the API reference spells them, spec 30 "State machine table") as soon as the work
is done, so a polling loop sees ``ACTIVE`` on its first poll after that.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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

#: Statuses in which a resource's work is still to be done.
PENDING_OR_RUNNING = frozenset({CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_STOPPING})


class Clock:
    """The one clock of the emulator: epoch seconds (float). Real time unless a test sets or advances it."""

    def __init__(self):
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._offset += seconds


class FailedWork(Exception):
    """Raised by a resource's work to end it in ``CREATE FAILED`` with ``reason`` as its ``failureReason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="localpersonalize-work")
_pending = set()
_pending_lock = threading.Lock()


def run_work(resource, store, work: Callable[[], None], done_status: str = ACTIVE) -> None:
    """Run ``work()`` on a worker thread for ``resource`` (a :class:`~.store.Resource`).

    The resource goes to ``CREATE IN_PROGRESS`` when the work starts, to ``done_status`` when it returns,
    and to ``CREATE FAILED`` with ``failureReason`` when it raises :class:`FailedWork` (or, for a bug of
    ours, any exception, whose text becomes the reason). A resource stopped meanwhile
    (``CREATE STOPPING``) ends in ``CREATE STOPPED`` instead.
    """

    def job():
        try:
            if not store.begin(resource):
                return
            work()
            store.finish(resource, done_status)
        except FailedWork as exc:
            store.finish(resource, CREATE_FAILED, exc.reason)
        except Exception as exc:  # a bug of ours: the resource fails with a reason, never hangs
            log.exception("work for %s failed", resource.arn)
            store.finish(resource, CREATE_FAILED, f"Internal error: {exc!r}")
        finally:
            with _pending_lock:
                _pending.discard(future)

    future = _pool.submit(job)
    with _pending_lock:
        _pending.add(future)


def wait_idle(timeout: float = 600.0) -> bool:
    """Block until no background work is pending (for tests and the demo). True when idle."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with _pending_lock:
            if not _pending:
                return True
        time.sleep(0.01)
    return False
