"""The standalone server: one port for Personalize (all three services), S3, IAM and STS.

It is moto server's WSGI application (``DomainDispatcherApplication``, which routes each request to a
service by its SigV4 scope, host or target header) with localpersonalize installed as its Personalize
backend, served by werkzeug. moto's own control API (``POST /moto-api/reset``) works as in moto server.
"""

from __future__ import annotations

import logging

from werkzeug.serving import make_server

from .moto_compat import install


def make_app():
    """The WSGI application serving every service on one port."""
    install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


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
