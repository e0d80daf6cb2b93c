"""The standalone server: one port for Personalize (all three services), S3, IAM and STS.

It is moto server's WSGI application (``DomainDispatcherApplication``, which routes each request to a
service by its SigV4 scope, host or target header) with localpersonalize installed as its Personalize
backend, served by werkzeug. moto's own control API (``POST /moto-api/reset``) works as in moto server, and
the emulator's controls of time, pacing and quotas answer under ``/_localpersonalize/``.
"""

from __future__ import annotations

import json
import logging

from werkzeug.serving import make_server

from . import jsontext
from .moto_compat import install, route_personalize_first


CONTROL_PREFIX = "/_localpersonalize/"


def control_answer(method: str, path: str, body: bytes) -> tuple[int, dict]:
    """Answer one request to the emulator's own controls (time, pacing, quotas), all JSON:

    * ``GET  /_localpersonalize/state``: ``{"now", "frozen", "pacing", "durations", "quotas"}``
    * ``POST /_localpersonalize/pacing`` ``{"mode": "immediate"|"stepped"|"timed", "durations": {...}}``
    * ``POST /_localpersonalize/clock`` ``{"advance": seconds}`` | ``{"set": epoch seconds}`` | ``{"freeze": bool}``
    * ``POST /_localpersonalize/quotas`` ``{"<quota name>": value, ...}``
    * ``POST /_localpersonalize/reset``: real time, immediate pacing, AWS quotas (resources: ``/moto-api/reset``)

    Every answer is the state after the change; a bad request answers 400 ``{"error": ...}``.
    """
    from .control import clock

    action = path[len(CONTROL_PREFIX):].strip("/")
    try:
        args = jsontext.loads(body or b"{}")
        if not isinstance(args, dict):
            raise ValueError("the body must be a JSON object")
        if method == "GET" and action == "state":
            pass
        elif method != "POST":
            return 405, {"error": f"{method} {path}: use POST (GET only for /_localpersonalize/state)"}
        elif action == "pacing":
            clock.set_pacing(args.get("mode", "immediate"), args.get("durations"))
        elif action == "clock":
            was_frozen = clock.state()["frozen"]
            try:  # freeze first, so that a set time stays exact
                if "freeze" in args:
                    clock.freeze(bool(args["freeze"]))
                if "set" in args:
                    clock.set_time(float(args["set"]))
                if "advance" in args:
                    clock.advance(float(args["advance"]))
            except (ValueError, TypeError):
                clock.freeze(was_frozen)  # a refused time leaves the clock as it was
                raise
        elif action == "quotas":
            for name, value in args.items():
                clock.set_quota(name, int(value))
        elif action == "reset":
            clock.reset()
        else:
            return 404, {"error": f"no control at {path}"}
    except (ValueError, KeyError, TypeError) as exc:
        # str() of a KeyError is the repr of its message (quoted); the message itself reads better
        return 400, {"error": exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)}
    return 200, clock.state()


def with_controls(app):
    """Wrap a WSGI ``app`` so that ``/_localpersonalize/*`` reaches :func:`control_answer`."""

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, answer = control_answer(environ["REQUEST_METHOD"].upper(), path, body)
        data = json.dumps(answer).encode()
        start_response(f"{status} {HTTP_REASONS.get(status, '')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return wsgi


HTTP_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


def make_app():
    """The WSGI application serving every service on one port, plus the controls under
    ``/_localpersonalize/``."""
    install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return with_controls(route_personalize_first(DomainDispatcherApplication(create_backend_app)))


def serve(host: str = "127.0.0.1", port: int = 4566, announce=print) -> None:
    """Serve until interrupted. ``port`` 0 picks a free port; the endpoint is announced before serving."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, make_app(), threaded=True)
    announce(f"localpersonalize serving Personalize, S3, IAM and STS at http://{host}:{server.server_port}")
    announce(f"  use it with: export AWS_ENDPOINT_URL=http://{host}:{server.server_port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
