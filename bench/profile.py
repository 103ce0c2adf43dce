"""Profile one hook call in process (Flask test client: JSON, validation, pipeline, rendering; no gunicorn).

    python -m bench.profile [--sizes 300 2000] [--hooks patient-view order-sign] [--repeat 20] [--top 25]

For each hook x size: the mean in-process time per call and the part of it spent in the
garbage collector, the time in each step of the flow
(cumulative time of the functions ``cds_service.api.hooks_routes.call_hook`` and
``cds_service.pipeline.run_hook`` call, read from the profile), and the top functions by own
time and by cumulative time (cProfile; the profiler itself roughly doubles the time of
pure-Python code, so read the numbers as shares, not as latencies).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import logging
import os
import pstats
import tempfile
import time
from typing import Any

import orjson

from bench.bundles import HOOKS, SERVICE_IDS, build_requests

# (label, module file suffix, function name): the steps of the flow, in order.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("whole request (Flask full_dispatch_request)", "flask/app.py", "full_dispatch_request"),
    ("read JSON body (orjson)", "api/requests_io.py", "read_json_object"),
    ("validate (jsonschema)", "hooks/validation.py", "validate"),
    ("run_hook", "cds_service/pipeline.py", "run_hook"),
    ("  gather_record (prefetch -> PatientRecord)", "fhir_data/prefetch.py", "gather_record"),
    ("  build_facts", "facts/build.py", "build_facts"),
    ("  read_draft_orders", "facts/orders.py", "read_draft_orders"),
    ("  evaluate", "guideline/evaluate.py", "evaluate"),
    ("  render_cards", "rendering/cards.py", "render_cards"),
    ("  hook_response (prune)", "hooks/response.py", "hook_response"),
    ("serialize response (jsonify)", "flask/json/__init__.py", "jsonify"),
    ("logging", "logging/__init__.py", "_log"),
)


def make_client():
    from cds_service import create_app

    db = os.path.join(tempfile.mkdtemp(prefix="nen-bench-"), "feedback.sqlite3")
    app = create_app({"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{db}"})
    # keep the production log level and formatting, but write the per-hook log line nowhere
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    return app.test_client()


def call(client, hook: str, body: bytes) -> Any:
    response = client.post(f"/cds-services/{SERVICE_IDS[hook]}", data=body, content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"{hook}: HTTP {response.status_code}: {response.data[:300]!r}")
    return response


def step_times(stats: pstats.Stats, calls: int) -> list[tuple[str, float | None]]:
    """Cumulative ms per call of each step, matched by file suffix and function name."""
    table = stats.stats  # type: ignore[attr-defined]
    out: list[tuple[str, float | None]] = []
    for label, suffix, name in STEPS:
        total = None
        for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in table.items():
            if func == name and filename.replace("\\", "/").endswith(suffix):
                total = (total or 0.0) + ct
        out.append((label, None if total is None else total * 1000 / calls))
    return out


class GcTimer:
    """Time spent in the cyclic garbage collector (gc.callbacks), per generation."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def profile_one(client, hook: str, size: int, repeat: int, top: int) -> str:
    body = orjson.dumps(build_requests(size, hooks=[hook])[hook])
    for _ in range(3):
        response = call(client, hook, body)
    with GcTimer() as gc_timer:
        started = time.perf_counter()
        for _ in range(repeat):
            call(client, hook, body)
        plain_ms = (time.perf_counter() - started) * 1000 / repeat

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call(client, hook, body)
    profiler.disable()
    stats = pstats.Stats(profiler)

    lines = [
        f"=== {hook}, {size} resources: request {len(body):,} bytes, response {len(response.data):,} bytes, "
        f"{len(orjson.loads(response.data).get('cards', []))} cards",
        f"in-process mean (no profiler): {plain_ms:.2f} ms per call over {repeat} calls, of which "
        f"{gc_timer.seconds * 1000 / repeat:.2f} ms in the garbage collector "
        f"(collections per generation 0/1/2: {'/'.join(map(str, gc_timer.collections))})",
        "time per step (cumulative ms per call, under the profiler):",
    ]
    for label, ms in step_times(stats, repeat):
        lines.append(f"  {label:<48} {'n/a' if ms is None else f'{ms:8.2f}'}")
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(key).print_stats(top)
        text = buffer.getvalue()
        lines.append(f"top {top} functions by {title}:")
        lines.append(text[text.find("   ncalls") :].rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 2000])
    parser.add_argument("--hooks", nargs="+", choices=HOOKS, default=["patient-view", "order-sign"])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    client = make_client()
    for size in args.sizes:
        for hook in args.hooks:
            print(profile_one(client, hook, size, args.repeat, args.top), flush=True)
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
