"""``cds-service``: run the service, or evaluate a FHIR Bundle from the terminal."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _serve(args: argparse.Namespace) -> int:
    if args.insecure_demo:
        os.environ["CDS_AUTH"] = "off"
        os.environ["CDS_ALLOW_INSECURE"] = "1"
        os.environ.setdefault("DEMO_DATA", "1")
    from gunicorn.app.wsgiapp import run as gunicorn_run

    sys.argv = [
        "gunicorn",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "30",
        "--access-logfile",
        "-" if args.access_log else "/dev/null",
        "cds_service.wsgi:app",
    ]
    gunicorn_run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the CDS Hooks service under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--access-log", action="store_true")
    serve.add_argument(
        "--insecure-demo",
        action="store_true",
        help="local demo: JWT checks off (logged as a warning), demo patients served",
    )
    serve.set_defaults(func=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
