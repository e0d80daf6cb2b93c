"""The emulator's own HTTP controls (`/_localpersonalize/...`, server.control_answer): state, pacing, clock,
quotas and reset as JSON, and a 400 with a readable message for bad input."""

import json

import pytest

from localpersonalize.control import clock
from localpersonalize.server import control_answer


@pytest.fixture(autouse=True)
def fresh_clock():
    clock.reset()
    yield
    clock.reset()


def post(action: str, body: dict):
    return control_answer("POST", f"/_localpersonalize/{action}", json.dumps(body).encode())


def test_state_pacing_clock_and_quotas_answer_the_state_after_the_change():
    status, state = control_answer("GET", "/_localpersonalize/state", b"")
    assert status == 200 and state["pacing"] == "immediate" and state["frozen"] is False
    status, state = post("pacing", {"mode": "stepped"})
    assert status == 200 and state["pacing"] == "stepped"
    _, state = post("clock", {"set": 1_900_000_000, "freeze": True})
    assert state["frozen"] is True and state["now"] == 1_900_000_000
    _, state = post("clock", {"advance": 3600})
    assert state["now"] == 1_900_003_600
    _, state = post("quotas", {"active_dataset_groups": 7})
    assert state["quotas"]["active_dataset_groups"] == 7
    _, state = post("reset", {})
    assert state["pacing"] == "immediate" and state["frozen"] is False
    assert state["quotas"]["active_dataset_groups"] == 5


def test_bad_control_requests_are_400_405_or_404_with_a_readable_message():
    status, answer = post("quotas", {"nope": 1})
    assert status == 400 and answer["error"].startswith("unknown quota 'nope'")
    status, answer = post("pacing", {"mode": "warp"})
    assert status == 400 and "warp" in answer["error"]
    status, answer = control_answer("GET", "/_localpersonalize/pacing", b"")
    assert status == 405
    status, answer = post("teleport", {})
    assert status == 404 and "no control" in answer["error"]
    status, answer = control_answer("POST", "/_localpersonalize/clock", b"[1]")
    assert status == 400 and "JSON object" in answer["error"]
    status, answer = post("clock", {"set": 1_000_000_000, "freeze": True})  # the past: refused, nothing changes
    assert status == 400 and answer["error"] == "the clock only moves forward"
    assert control_answer("GET", "/_localpersonalize/state", b"")[1]["frozen"] is False
