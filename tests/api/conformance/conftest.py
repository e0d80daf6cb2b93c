"""Fixtures of the conformance cases: a fresh :class:`World` per test, in ``personalize_mock``, with
pacing, clock and quotas reset."""

from __future__ import annotations

import pytest

from . import harness
from .world import World


@pytest.fixture
def world(personalize_mock):
    harness.clear()
    return World()
