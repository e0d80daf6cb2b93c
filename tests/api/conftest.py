"""Every answer that a test of tests/api receives through boto3 is checked against the botocore model
(conformance/harness.py): the strict output shape on success, a declared error code otherwise. Time,
pacing and quotas start from their defaults in every test."""

from __future__ import annotations

import pytest

from localpersonalize.control import clock

from .conformance import harness


@pytest.fixture(autouse=True)
def conformance():
    harness.install()
    clock.reset()
    yield
    harness.uninstall()
    clock.reset()
