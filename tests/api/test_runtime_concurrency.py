"""Requests read one moment of the dataset group (DatasetGroupData.reading): GetRecommendations and
GetPersonalizedRanking running while other threads PutItems (new item IDs) and PutEvents never answer a
500 (they used to, with arrays of two moments: "operands could not be broadcast together")."""

from __future__ import annotations

import threading
import time

import boto3
import pytest

from .runtime_world import open_world
from .test_runtime import group_data


@pytest.fixture(scope="module")
def world():
    arns, close = open_world()
    yield arns
    close()


def test_a_reading_sees_the_data_of_its_start_and_the_next_one_sees_the_writes(world):
    data = group_data(world["group"])
    items, ds = data.items, data.dataset("INTERACTIONS")
    n_items, n_rows = len(items), ds.n_rows
    with data.reading():
        ds.put_records([{"USER_ID": "u1", "ITEM_ID": "brand-new-item", "TIMESTAMP": 1_700_000_500,
                         "EVENT_TYPE": "click"}])
        assert len(items) == n_items and ds.n_rows == n_rows and len(ds.codes("ITEM_ID")) == n_rows
        assert items.code("brand-new-item", add=False) == -1
        assert items.codes(["brand-new-item", "i1"], add=False).tolist() == [-1, items.code("i1", add=False)]
        with data.reading():                                # nested: the outer moment
            assert ds.n_rows == n_rows
        exported, rows = ds.export_csv("ALL")                # the pinned rows, with the pinned item IDs
        assert rows == n_rows and b"brand-new-item" not in exported
        assert items.lookup(ds.codes("ITEM_ID")[:3]).tolist() == ds.column("ITEM_ID")[:3].tolist()
    assert len(items) == n_items + 1 and ds.n_rows == n_rows + 1 and items.code("brand-new-item", add=False) >= 0


def test_a_reading_pins_between_two_writes(world):
    """A reading takes its pins under the group's write lock: while a writer holds it (interning new IDs,
    then swapping its rows in), a reading waits, so a new ID is never seen without the rows that brought it."""
    data = group_data(world["group"])
    entered = threading.Event()

    def read():
        with data.reading():
            entered.set()

    with data.lock:
        reader = threading.Thread(target=read)
        reader.start()
        assert not entered.wait(0.2)
    reader.join(5)
    assert entered.is_set()


def test_requests_during_puts_in_other_threads_never_fail(world):
    rt = boto3.client("personalize-runtime")
    data = group_data(world["group"])
    failures, stop = [], threading.Event()
    statuses = []
    rt.meta.events.register("response-received.personalize-runtime",     # every attempt: retries would hide a 500
                            lambda response_dict, **kw: statuses.append(response_dict["status_code"]))

    def writer():
        k = 0
        while not stop.is_set():
            k += 1
            data.dataset("ITEMS").put_records([{"ITEM_ID": f"new-{k}", "GENRE": "Comedy", "PRICE": 1.0,
                                                "CREATION_TIMESTAMP": 1_700_000_000}])
            data.dataset("INTERACTIONS").put_records(
                [{"USER_ID": f"u{k % 80}", "ITEM_ID": f"new-{k}", "TIMESTAMP": 1_700_001_000 + k, "EVENT_TYPE": "click"}])

    def reader(j):
        try:
            while not stop.is_set():
                rt.get_recommendations(campaignArn=world["up"], userId=f"u{j}", numResults=10)
                rt.get_recommendations(campaignArn=world["up2"], userId=f"u{j + 1}", numResults=10)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            failures.append(repr(exc))

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader, args=(j,)) for j in range(3)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join()
    assert not failures and statuses and set(statuses) == {200}, (failures[:3], sorted(set(statuses)))
