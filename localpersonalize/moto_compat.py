"""Every touch-point with moto's internals, in this one file (works on moto 5.x).

How localpersonalize plugs into moto (DESIGN.md, "moto integration"):

* moto's own 4-operation Personalize backend (``moto.personalize.personalize_backends``) is replaced by a
  ``BackendDict`` of :class:`PersonalizeBackend`, whose per-(account, region) instance holds our
  :class:`~localpersonalize.control.store.Store`. That gives composition with ``mock_aws``, reset through
  ``/moto-api/reset`` and ``moto.core.models.reset``, account resolution (``MOTO_ACCOUNT_ID``, access
  keys), and moto server's single port for Personalize, S3, IAM and STS.
* The ``personalize-runtime`` and ``personalize-events`` host names are added to
  ``moto.backend_index.backend_url_patterns``, so in-process mocking intercepts them too.
* S3 objects are read and written in moto's S3 backend in process (never through a boto3 client from
  inside a handler, which would fail in server mode).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import moto.backend_index as backend_index
import moto.personalize
import moto.personalize.models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict, BaseBackend

from .control.store import Store
from .protocol import dispatch

_HOSTS = r"https?://personalize(-runtime|-events)?\.(.+)\.amazonaws\.com(\.cn)?"
_PATHS = ("/", "/recommendations", "/personalize-ranking", "/action-recommendations",
          "/events", "/items", "/users", "/actions", "/action-interactions")
_lock = threading.Lock()
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")


def personalize_request(request: Any, full_url: str, headers: Any):
    """moto's callback signature: answer one Personalize request (in-process or in moto server)."""
    if hasattr(request, "get_data"):  # werkzeug/flask request (moto server)
        body, path = request.get_data(), request.path
    else:  # botocore AWSPreparedRequest (in-process mocking)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        path = re.sub(r"^https?://[^/]+", "", full_url) or "/"
    if isinstance(body, str):
        body = body.encode()
    req = dispatch.Request(request.method, path, {k.lower(): v for k, v in dict(headers).items()}, body)
    return dispatch.handle(req, context_for)


class PersonalizeBackend(BaseBackend):
    """moto backend holding the localpersonalize store of one account and region."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.store = Store(account_id, region_name)

    url_bases = [_HOSTS]

    @property
    def urls(self):  # full-URL regex -> handler, for in-process mocking
        return {_HOSTS + (p if p != "/" else "/?") + "$": personalize_request for p in _PATHS}

    @property
    def url_paths(self):  # path regex -> handler, for moto server's Flask app
        return {p + "$" if p != "/" else "/$": personalize_request for p in _PATHS}


personalize_backends: BackendDict = BackendDict(PersonalizeBackend, "personalize")


def install() -> None:
    """Put localpersonalize in moto's place for Personalize (idempotent)."""
    moto.personalize.personalize_backends = personalize_backends
    moto.personalize.models.personalize_backends = personalize_backends
    pattern = re.compile(r"https?://personalize-(runtime|events)\.(.+)\.amazonaws\.com")
    if not any(s == "personalize" and p.pattern == pattern.pattern for s, p in backend_index.backend_url_patterns):
        backend_index.backend_url_patterns.insert(0, ("personalize", pattern))


def account_of(headers: dict[str, str]) -> str:
    """The caller's account, resolved as moto resolves it (``BaseResponse.get_current_account``): the
    ``MOTO_ACCOUNT_ID`` environment variable, else an ``x-moto-account-id`` header, else the account of the
    access key (STS-issued keys map to their account), else moto's default account."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "x-moto-account-id" in headers:
        return headers["x-moto-account-id"]
    from moto.iam.models import get_account_id_from

    m = _ACCESS_KEY.search(headers.get("authorization", ""))
    return get_account_id_from(m.group(1)) if m else DEFAULT_ACCOUNT_ID


def store_for(account_id: str, region: str) -> Store:
    """The store of ``account_id`` in ``region``, created on first use for any region name."""
    per_account = personalize_backends[account_id]
    with _lock:
        if region not in per_account.keys():
            per_account[region] = PersonalizeBackend(region, account_id)
    return per_account[region].store


def context_for(req: dispatch.Request) -> dispatch.Context:
    """Resolve the caller's account (from the access key) and region (from the credential scope)."""
    account = account_of(req.headers)
    region = dispatch.region_of(req)
    return dispatch.Context(account, region, store_for(account, region))


# ----- S3, in process
def _s3(account_id: str):
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]


class S3Error(Exception):
    """An S3 location that cannot be read or written; the message says why."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key). Raises S3Error for anything else."""
    m = re.fullmatch(r"s3://([^/]+)/?(.*)", uri or "")
    if not m:
        raise S3Error(f"Invalid S3 path {uri!r}: expected s3://<bucket>/<key or folder/>")
    return m.group(1), m.group(2)


def s3_keys(account_id: str, uri: str) -> list[str]:
    """The object keys a data location names: the key itself, or for a folder ``.../`` the objects
    directly in it (not in sub-folders), sorted. Raises S3Error when the bucket or object is missing."""
    bucket_name, key = split_s3_uri(uri)
    backend = _s3(account_id)
    try:
        bucket = backend.get_bucket(bucket_name)
    except Exception:
        raise S3Error(f"The S3 bucket {bucket_name} does not exist") from None
    names = list(bucket.keys.keys())
    if key == "" or key.endswith("/"):
        found = sorted(n for n in names if n.startswith(key) and "/" not in n[len(key):] and n != key)
    else:
        found = [key] if key in names else []
    if not found:
        raise S3Error(f"No object found at {uri}")
    return found


def s3_read(account_id: str, bucket: str, key: str) -> bytes:
    """The bytes of one object in moto's S3 of ``account_id``."""
    obj = _s3(account_id).get_object(bucket, key)
    if obj is None:
        raise S3Error(f"No object found at s3://{bucket}/{key}")
    return obj.value


def s3_write(account_id: str, bucket: str, key: str, data: bytes) -> None:
    """Write one object to moto's S3 of ``account_id`` (the bucket must exist)."""
    backend = _s3(account_id)
    try:
        backend.get_bucket(bucket)
    except Exception:
        raise S3Error(f"The S3 bucket {bucket} does not exist") from None
    backend.put_object(bucket, key, data)
