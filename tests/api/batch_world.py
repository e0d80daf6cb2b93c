"""Module-scoped worlds for the batch and metric-attribution tests (issue 7): ``open_world(build)`` runs
``build()`` inside one mock_personalize with fake credentials and yields what it returns."""

from __future__ import annotations

import contextlib

import pytest

from localpersonalize import mock_personalize

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def open_world(build):
    """Yield ``build()`` run inside an open mock_personalize (closed, and the environment restored, after)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_personalize():
            yield build()
