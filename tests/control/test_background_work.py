"""Background work (control/lifecycle.run_work): a bug of ours fails the resource with its text and is
logged; work still running when its store is discarded (the mock ended) fails quietly."""

import logging

import pytest

from localpersonalize.control import lifecycle
from localpersonalize.control.store import Store


def _work_that_raises():
    raise KeyError("gone")


@pytest.mark.parametrize("closed, logged", [(False, True), (True, False)])
def test_failing_work_is_logged_unless_its_store_is_closed(caplog, closed, logged):
    store = Store("123456789012", "us-east-1")
    res = store.create("schema", store.arn("schema", "s"), {"name": "s"})
    store.closed = closed
    with caplog.at_level(logging.ERROR, logger=lifecycle.log.name):
        lifecycle.run_work(res, store, _work_that_raises)
        assert lifecycle.wait_idle(30)
        store.settle()
    assert res.status == lifecycle.CREATE_FAILED and res.record["failureReason"] == "Internal error: KeyError('gone')"
    assert any("work for" in r.getMessage() for r in caplog.records) is logged
