"""The Python API of time, pacing and quotas (also served by ``localpersonalize serve`` under
``/_localpersonalize/``, see server.py)::

    from localpersonalize.control import clock

    clock.set_pacing("stepped")                # each Describe advances one status
    clock.set_pacing("timed", {"solution-version": 600, "default": 5})  # seconds per status
    clock.freeze()                             # time moves only through advance()
    clock.advance(3600)                        # one hour later: due transitions and automatic training run
    clock.set_quota("active_dataset_groups", 20)
    clock.reset()                              # real time, immediate pacing, AWS quotas

Pacing and the clock are process-wide (every account and region), like the service's own time.
"""

from __future__ import annotations

import contextlib

from . import lifecycle, quotas


def now() -> float:
    """The emulator's time (epoch seconds)."""
    return lifecycle.CLOCK.now()


def set_pacing(mode: str, durations: dict[str, float] | None = None) -> None:
    """``immediate`` | ``stepped`` | ``timed``; ``durations`` (timed): seconds per status keyed by resource
    kind (``dataset-group``, ``solution-version``...), ``<kind>:<STATUS>`` or ``default``.
    Raises ValueError for an unknown mode or a negative duration."""
    lifecycle.PACING.set(mode, durations)
    lifecycle.settle_all(wait=False)


def advance(seconds: float) -> float:
    """Move the clock ``seconds`` forward and apply, in time order, every transition and scheduled
    automatic training that falls due (waiting for the work they start). Returns the new time."""
    lifecycle.CLOCK.advance(float(seconds))
    lifecycle.settle_all(wait=True)
    return now()


def set_time(epoch_seconds: float) -> None:
    """Jump to ``epoch_seconds`` (forward only, so that nothing happens twice). Raises ValueError."""
    if epoch_seconds < now():
        raise ValueError("the clock only moves forward")
    advance(epoch_seconds - now())


def freeze(frozen: bool = True) -> None:
    """Stop (or restart) the clock: while frozen, time moves only through :func:`advance`."""
    lifecycle.CLOCK.freeze(frozen)


def set_quota(name: str, value: int) -> None:
    """Override one quota of control/quotas.py (e.g. ``active_dataset_groups``). Raises KeyError/ValueError."""
    quotas.set_quota(name, value)


def state() -> dict:
    """Time, pacing and quotas, as the server's ``GET /_localpersonalize/state`` shows them."""
    return {"now": now(), "frozen": lifecycle.CLOCK.frozen, "pacing": lifecycle.PACING.mode,
            "durations": dict(lifecycle.PACING.durations), "quotas": quotas.current()}


def reset() -> None:
    """Real time, immediate pacing, the AWS quotas (plus ``LOCALPERSONALIZE_QUOTA_*`` overrides)."""
    lifecycle.CLOCK.reset()
    lifecycle.PACING.reset()
    quotas.reset()


@contextlib.contextmanager
def pacing(mode: str, durations: dict[str, float] | None = None):
    """``with clock.pacing("stepped"): ...`` then back to the previous pacing."""
    before = (lifecycle.PACING.mode, dict(lifecycle.PACING.durations))
    set_pacing(mode, durations)
    try:
        yield
    finally:
        lifecycle.PACING.mode, lifecycle.PACING.durations = before
