"""The single-port server's routing: Personalize requests reach localpersonalize whether signed or not;
nothing it cannot route becomes a 500."""

from __future__ import annotations

import io
import json

import pytest

from localpersonalize.server import make_app


def call(app, method: str, path: str, headers: dict, body: bytes = b""):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4566",
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "wsgi.url_scheme": "http",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    answer = {}

    def start_response(status, headers_list, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers_list)

    out = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], out


@pytest.fixture(scope="module")
def app():
    return make_app()


def test_unsigned_control_plane_request_reaches_personalize(app):
    status, headers, body = call(app, "POST", "/", {"X-Amz-Target": "AmazonPersonalize.ListDatasetGroups",
                                                     "Content-Type": "application/x-amz-json-1.1"}, b"{}")
    assert status == 200 and json.loads(body) == {"datasetGroups": []}


def test_unsigned_runtime_request_reaches_personalize(app):
    status, headers, body = call(app, "POST", "/recommendations", {"Content-Type": "application/json"},
                                 json.dumps({"campaignArn": "arn:aws:personalize:us-east-1:123456789012:campaign/x",
                                             "userId": "u"}).encode())
    assert status == 400 and json.loads(body)["__type"] == "InvalidInputException"
    assert headers["Content-Type"] == "application/json"


def test_garbage_authorization_is_a_json_400(app):
    status, _, body = call(app, "GET", "/", {"Authorization": "garbage"})
    assert status == 400 and json.loads(body)["__type"] == "IncompleteSignatureException"


def test_unknown_path_with_a_personalize_scope_is_a_json_404(app):
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/personalize/aws4_request, SignedHeaders=host, Signature=x"
    status, _, body = call(app, "POST", "/nothing-here", {"Authorization": auth}, b"{}")
    assert status == 404 and json.loads(body)["__type"] == "UnknownOperationException"
