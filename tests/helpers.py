"""Shared test helpers: the real MovieLens data prepared as the guide's prerequisites prescribe, and
ways to wait for resources."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from pathlib import Path

import pytest

import os

#: The shared data beside the repository (as in CI and fresh-clone-check); override with LOCALPERSONALIZE_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("LOCALPERSONALIZE_SHARED_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")
ML_SMALL = SHARED_DATA / "movielens" / "ml-latest-small"


def movielens_ratings(domain: bool = False) -> bytes:
    """ml-latest-small ratings.csv prepared as in the guide's prerequisites (guide lines 1444-1504):
    rating dropped, header ``USER_ID,ITEM_ID,TIMESTAMP`` (custom); for the domain tutorial, header
    ``USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE`` with ``watch`` on every row, written with a space after
    each comma exactly as the guide prints it."""
    path = ML_SMALL / "ratings.csv"
    if not path.exists():
        pytest.skip(f"the shared MovieLens data is not at {path}")
    out = io.StringIO()
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        if domain:
            out.write("USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE\n")
            out.writelines(f"{u}, {i}, {t}, watch\n" for u, i, _, t in rows)
        else:
            out.write("USER_ID,ITEM_ID,TIMESTAMP\n")
            out.writelines(f"{u},{i},{t}\n" for u, i, _, t in rows)
    return out.getvalue().encode()


def wait_for(describe, key: str, timeout: float = 300.0) -> dict:
    """Poll ``describe()[key]`` until its status is terminal; returns the record."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        record = describe()[key]
        if record["status"] in ("ACTIVE", "CREATE FAILED", "CREATE STOPPED", "INACTIVE", "COMPLETED", "FAILED"):
            return record
        time.sleep(0.05)
    raise AssertionError(f"{key} still {record['status']} after {timeout} s")


@contextlib.contextmanager
def offline_personalize():
    """``mock_personalize`` with fake credentials and ``us-east-1``, like the ``personalize_mock`` fixture but
    usable in a module-scoped fixture (one world shared by the tests of a module)."""
    from localpersonalize import mock_personalize

    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(key, value)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.delenv("AWS_PROFILE", raising=False)
        with mock_personalize():
            yield


def client_error(call, **kw) -> tuple[str, str]:
    """(error code, message) of the ClientError that ``call(**kw)`` must raise."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        call(**kw)
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]
