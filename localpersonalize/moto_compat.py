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

import json
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


_SCOPE_SERVICE = re.compile(r"Credential=[^/]*/[^/]*/[^/]*/([^/]+)/")


def is_personalize(method: str, path: str, headers: dict[str, str]) -> bool:
    """Whether a request to the single-port server is for one of the Personalize services: a
    ``AmazonPersonalize.*`` target, a ``personalize`` SigV4 scope or host, or an unsigned POST to one of
    the runtime/events paths (moto's own router would send unsigned requests to S3)."""
    if headers.get("x-amz-target", "").startswith("AmazonPersonalize."):
        return True
    auth = headers.get("authorization", "")
    m = _SCOPE_SERVICE.search(auth)
    if m:
        return m.group(1) == "personalize"
    if headers.get("host", "").startswith("personalize"):
        return True
    return not auth and method == "POST" and path.rstrip("/") in _PATHS[1:]


def route_personalize_first(app):
    """WSGI wrapper for moto server's application: Personalize requests go straight to
    :func:`~localpersonalize.protocol.dispatch.handle`; everything else to moto (S3, IAM, STS,
    ``/moto-api``). A request moto cannot even route (e.g. a malformed ``Authorization`` header) gets a
    JSON 400 ``IncompleteSignatureException`` instead of a crash."""

    def wsgi(environ, start_response):
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        method, path = environ["REQUEST_METHOD"].upper(), environ.get("PATH_INFO", "/")
        if not is_personalize(method, path, headers):
            try:
                return app(environ, start_response)
            except Exception as exc:  # moto's router raised before any service saw the request
                answer = (400, {"x-amzn-ErrorType": "IncompleteSignatureException"}, json.dumps({
                    "__type": "IncompleteSignatureException",
                    "message": f"The request could not be routed: malformed Authorization header? ({exc!r})"}).encode())
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            answer = dispatch.handle(dispatch.Request(method, path, headers, body), context_for)
        status, out_headers, out = answer
        start_response(f"{status} {HTTP_STATUS_TEXT.get(status, 'Error')}",
                       [*out_headers.items(), ("Content-Length", str(len(out)))])
        return [out]

    return wsgi


HTTP_STATUS_TEXT = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                    500: "Internal Server Error", 501: "Not Implemented"}


class PersonalizeBackend(BaseBackend):
    """moto backend holding the localpersonalize store of one account and region."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.store = Store(account_id, region_name)

    def reset(self) -> None:
        """moto's reset (the outermost mock ends): a new store; the old one is marked closed."""
        self.store.closed = True
        super().reset()

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


class InvalidLocation(S3Error):
    """A location that is not of the form ``s3://<bucket>/<key>`` or ``s3://<bucket>/<folder>/``."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key): a data location is one object or a folder ending in ``/``
    (spec 30 §3). Raises S3Error("Invalid data location.") for anything else (the guide's message)."""
    m = re.fullmatch(r"s3://([^/]+)/(.+)", uri or "")
    if not m:
        raise InvalidLocation("Invalid data location.")
    return m.group(1), m.group(2)


def s3_keys(account_id: str, uri: str, recursive: bool = False) -> list[str]:
    """The object keys a data location names: the key itself, or for a folder ``.../`` the ``.csv``
    objects directly in it (not in sub-folders), sorted (guide, "Importing bulk data": only the CSV files
    of the folder's first level are read); with ``recursive`` also those of sub-folders (data deletion
    jobs, spec 40 §11.1). Raises S3Error when the bucket or object is missing."""
    bucket_name, key = split_s3_uri(uri)
    backend = _s3(account_id)
    try:
        bucket = backend.get_bucket(bucket_name)
    except Exception:
        raise S3Error(f"The S3 bucket {bucket_name} does not exist") from None
    names = list(bucket.keys.keys())
    if key.endswith("/"):
        found = sorted(n for n in names if n.startswith(key) and (recursive or "/" not in n[len(key):])
                       and n.lower().endswith(".csv"))
        if not found:
            raise S3Error(f"No CSV files found in the folder {uri}")
    else:
        found = [key] if key in names else []
        if not found:
            raise S3Error(f"No object found at {uri}")
    return found


def s3_prefix_keys(account_id: str, uri: str) -> list[str]:
    """Every object key that starts with the key part of ``uri``, sorted: the S3 prefix semantics of batch
    job inputs (``s3://b/folderName`` also matches ``s3://b/folderName_test/x``; a trailing ``/`` keeps
    to that folder; guide L13880-L13885). Raises S3Error when the bucket is missing or nothing matches."""
    bucket_name, key = split_s3_uri(uri)
    try:
        bucket = _s3(account_id).get_bucket(bucket_name)
    except Exception:
        raise S3Error(f"The S3 bucket {bucket_name} does not exist") from None
    found = sorted(n for n in bucket.keys.keys() if n.startswith(key) and not n.endswith("/"))
    if not found:
        raise S3Error(f"No object found at {uri}")
    return found


def s3_read(account_id: str, bucket: str, key: str) -> bytes:
    """The bytes of one object in moto's S3 of ``account_id``. Raises S3Error when it is gone."""
    try:
        obj = _s3(account_id).get_object(bucket, key)
    except Exception:  # moto's MissingBucket / MissingKey
        obj = None
    if obj is None:
        raise S3Error(f"No object found at s3://{bucket}/{key}")
    return obj.value


def s3_size(account_id: str, bucket: str, key: str) -> int:
    """The size in bytes of one object in moto's S3 of ``account_id``."""
    obj = _s3(account_id).get_object(bucket, key)
    if obj is None:
        raise S3Error(f"No object found at s3://{bucket}/{key}")
    return int(obj.size)


def s3_chunks(account_id: str, bucket: str, key: str, size: int = 16 << 20):
    """The bytes of one object in chunks of ``size``, read from moto's buffer (moto spools large objects
    to disk), so the whole object never has to sit in memory at once."""
    obj = _s3(account_id).get_object(bucket, key)
    if obj is None:
        raise S3Error(f"No object found at s3://{bucket}/{key}")
    buffer = getattr(obj, "_value_buffer", None)
    if buffer is None or not hasattr(obj, "lock"):
        yield obj.value
        return
    offset = 0
    while True:
        with obj.lock:
            buffer.seek(offset)
            chunk = buffer.read(size)
        if not chunk:
            return
        offset += len(chunk)
        yield chunk


def s3_write(account_id: str, bucket: str, key: str, data: bytes) -> None:
    """Write one object to moto's S3 of ``account_id`` (the bucket must exist)."""
    backend = _s3(account_id)
    try:
        backend.get_bucket(bucket)
    except Exception:
        raise S3Error(f"The S3 bucket {bucket} does not exist") from None
    backend.put_object(bucket, key, data)
