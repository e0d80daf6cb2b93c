"""The ``personalize_mock`` fixture gives every test a clean emulator, time and pacing included."""

from __future__ import annotations

import boto3

from localpersonalize.control import clock


def test_pacing_set_in_a_test(personalize_mock):
    clock.set_pacing("stepped")
    clock.set_quota("active_dataset_groups", 1)
    boto3.client("personalize").create_dataset_group(name="first")
    assert clock.state()["pacing"] == "stepped"


def test_does_not_leak_into_the_next_test(personalize_mock):
    state = clock.state()
    assert state["pacing"] == "immediate" and state["quotas"]["active_dataset_groups"] == 5
    assert boto3.client("personalize").list_dataset_groups()["datasetGroups"] == []
