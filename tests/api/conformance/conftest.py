"""Fixtures of the conformance cases.

* ``world``: a fresh :class:`World` per test, in ``personalize_mock``, with pacing, clock and quotas reset.
* ``shared_world``: one :class:`World` per test module, in one ``mock_personalize`` opened for the module
  (building a mock costs ~0.3 s, a trained version more): pacing, clock and quotas are still reset around
  each test (tests/api/conftest.py), the dataset-group quota is raised (the module's cases add groups),
  and the harness's record of exchanges starts empty. A module opts in with::

      @pytest.fixture
      def world(shared_world):
          return shared_world

  Its cases must then leave the world's shared resources (``w.group``, ``w.campaign``...) usable: a case
  that deletes, updates or stalls something creates its own first.
"""

from __future__ import annotations

import pytest

from localpersonalize.control import clock

from ...helpers import offline_personalize
from . import harness
from .world import World

#: Dataset groups a shared world may hold (each module's cases add a few).
SHARED_DATASET_GROUPS = 1000


@pytest.fixture
def world(personalize_mock):
    harness.clear()
    return World()


@pytest.fixture(scope="module")
def _module_world():
    harness.install()  # before the mock's boto3 session exists, so its clients carry the check
    with offline_personalize():
        yield World()


@pytest.fixture
def shared_world(_module_world):
    harness.clear()
    clock.set_quota("active_dataset_groups", SHARED_DATASET_GROUPS)
    return _module_world
