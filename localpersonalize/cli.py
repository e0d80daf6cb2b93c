"""``localpersonalize serve | demo`` (also ``python -m localpersonalize``)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localpersonalize", description="A local, offline Amazon Personalize.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve Personalize, S3, IAM and STS on one local port")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=4566, help="port (default: 4566; 0 picks a free one)")
    sub.add_parser("demo", help="run the getting-started tutorial on the embedded MovieLens data")
    args = parser.parse_args(argv)
    if args.command == "serve":
        from .server import serve as run

        run(args.host, args.port, announce=lambda line: print(line, flush=True))
        return 0
    from .demo import main as demo

    return demo()


if __name__ == "__main__":
    sys.exit(main())
