"""pytest fixtures, registered through the ``pytest11`` entry point of the package.

``personalize_mock``: inside it, boto3 clients of personalize, personalize-runtime, personalize-events,
S3, IAM and STS work offline against localpersonalize, with fake credentials and ``us-east-1`` as the
default region. State starts empty for every test, and so do the clock, pacing and quotas
(``localpersonalize.control.clock.reset()`` before and after the test).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def personalize_mock(monkeypatch):
    """Offline Personalize (and S3/IAM/STS) for the test; yields nothing, use boto3 as usual."""
    from . import mock_personalize
    from .control import clock

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clock.reset()
    try:
        with mock_personalize():
            yield
    finally:
        clock.reset()
