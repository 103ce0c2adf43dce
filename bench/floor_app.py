"""The floor: a bare Flask app under the same gunicorn settings, to measure what Flask + gunicorn cost alone.

WSGI ``bench.floor_app:app``. One endpoint, ``POST /cds-services/<service_id>``: it reads the
whole request body (as the service must) without parsing it, and returns a static JSON body
(``{"cards": [], "pad": "xxx..."}``, ``application/json``) whose size in bytes comes from the
environment:

- ``FLOOR_BODY_BYTES``: the size of every response (default 12, the size of ``{"cards":[]}``);
- ``FLOOR_BODY_BYTES_BY_KEY``: optional JSON object ``{"<service_id>?bench=<tag>": bytes}`` so that
  each benchmark request gets a body the size of the service's own response to that same request
  (the load generator adds ``?bench=<tag>`` to both URLs; the service ignores query strings).

``python -m bench.floor_app --port P`` serves it under exactly the gunicorn command line that
``cds-service serve`` builds (``cds_service.cli``), with only the WSGI app swapped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from flask import Flask, Response, request

SERVICE_APP = "cds_service.wsgi:app"
FLOOR_APP = "bench.floor_app:app"


def static_body(size: int) -> bytes:
    """A valid JSON object of exactly ``size`` bytes (at least the 12 of an empty card list)."""
    empty = b'{"cards":[]}'
    if size <= len(empty):
        return empty
    base = b'{"cards":[],"pad":""}'
    if size < len(base):
        return empty + b" " * (size - len(empty))  # trailing whitespace is still valid JSON
    return b'{"cards":[],"pad":"' + b"x" * (size - len(base)) + b'"}'


def create_floor_app() -> Flask:
    default = static_body(int(os.environ.get("FLOOR_BODY_BYTES", "12")))
    by_key = {k: static_body(int(v)) for k, v in json.loads(os.environ.get("FLOOR_BODY_BYTES_BY_KEY", "{}")).items()}
    floor = Flask(__name__)

    @floor.post("/cds-services/<service_id>")
    def hook(service_id: str) -> Response:
        request.get_data(cache=False)  # receive the whole body, as the service does; do not parse it
        body = by_key.get(f"{service_id}?bench={request.args.get('bench', '')}", default)
        return Response(body, status=200, mimetype="application/json")

    @floor.get("/cds-services")
    def discovery() -> Response:  # readiness probe, same path as the service's
        return Response(b'{"services":[]}', status=200, mimetype="application/json")

    return floor


app = create_floor_app()


def serve(app_path: str, argv: Sequence[str]) -> int:
    """Run ``cds-service serve <argv>`` with the WSGI app ``app_path`` in place of the service's."""
    import gunicorn.app.wsgiapp

    from cds_service import cli

    original = gunicorn.app.wsgiapp.run

    def run_swapped(*args: object, **kwargs: object) -> None:
        sys.argv = [app_path if a == SERVICE_APP else a for a in sys.argv]
        if app_path not in sys.argv:
            raise RuntimeError(f"cds_service.cli no longer serves {SERVICE_APP}: update bench/floor_app.py")
        original(*args, **kwargs)

    gunicorn.app.wsgiapp.run = run_swapped
    return cli.main(["serve", *argv])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_app", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None, help="default: cds-service serve's")
    parser.add_argument("--threads", type=int, default=None, help="default: cds-service serve's")
    args = parser.parse_args(argv)
    extra = ["--host", "127.0.0.1", "--port", str(args.port)]
    if args.workers:
        extra += ["--workers", str(args.workers)]
    if args.threads:
        extra += ["--threads", str(args.threads)]
    return serve(FLOOR_APP, extra)


if __name__ == "__main__":
    raise SystemExit(main())
