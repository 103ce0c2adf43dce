"""Load benchmark of the production server against the Flask + gunicorn floor.

    python -m bench.run [--quick] [--duration S] [--out bench/RESULTS.md]

Starts, on free 127.0.0.1 ports, (1) the service exactly as ``cds-service serve`` runs it
(gunicorn ``cds_service.wsgi:app``, gthread worker class, the CLI's default worker and thread
counts, JWT checks off with ``CDS_AUTH=off CDS_ALLOW_INSECURE=1``) and (2) the floor app
(``bench.floor_app``) under the same gunicorn command line. It measures the service's response
size for every hook x record size, gives the floor the same sizes, then for every hook x size x
concurrency (1, 4, 16) runs a closed-loop load generator (one thread and one ``requests.Session``
per simulated client, a fresh hookInstance per request) against the service and then the floor,
bounded by time and request count. Traffic goes only to 127.0.0.1. Results: p50/p95/p99 latency,
throughput, errors, RSS per gunicorn worker; printed, and written to ``bench/RESULTS.md`` (full
runs; ``--quick`` only prints unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import itertools
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import requests

from bench.bundles import HOOKS, SERVICE_IDS, SIZES, build_requests

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
CONCURRENCY: tuple[int, ...] = (1, 4, 16)
PLACEHOLDER = "00000000-bench-hook-instance-placeholder"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

# Targets (issue 6). Sizes are the bundle sizes the targets name.
TARGET_SIZE, LARGE_SIZE, TARGET_CONCURRENCY = 300, 2000, 4


@dataclass
class Mode:
    duration: float  # seconds of measured load per service configuration
    floor_duration: float  # seconds per floor configuration
    max_requests: int  # per configuration
    warmup: int  # requests per client thread before measuring (opens the keep-alive connection)
    min_requests: int = 20  # keep going past ``duration`` (up to 2.5x) until this many requests were sent


FULL = Mode(duration=4.0, floor_duration=1.5, max_requests=3000, warmup=1, min_requests=20)
QUICK = Mode(duration=0.4, floor_duration=0.2, max_requests=300, warmup=0, min_requests=2)
OVERTIME = 2.5  # hard limit of a configuration, in multiples of its duration


# --- statistics ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default) of already sorted values; NaN if empty."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class LoadResult:
    latencies_ms: list[float]  # successful requests only, sorted
    errors: int
    elapsed_s: float
    server_cpu_s: float = math.nan  # CPU time (user + system) of the server's workers while measuring
    error_kinds: dict[str, int] = field(default_factory=dict)  # "HTTP 503", "ConnectionError", ...

    @property
    def cpu_ms_per_request(self) -> float:
        requests_made = self.count + self.errors
        return self.server_cpu_s * 1000 / requests_made if requests_made else math.nan

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    @property
    def throughput(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s > 0 else math.nan


# --- load generator -----------------------------------------------------------------------------


class RequestBody:
    """A serialized hook request whose hookInstance is replaced by a fresh UUID for every call."""

    def __init__(self, request: dict[str, Any]) -> None:
        raw = orjson.dumps({**request, "hookInstance": PLACEHOLDER})
        self.head, self.tail = raw.split(PLACEHOLDER.encode(), 1)
        self.size = len(raw) - len(PLACEHOLDER) + 36

    def __call__(self) -> bytes:
        return self.head + str(uuid.uuid4()).encode() + self.tail


def generate_load(
    url: str,
    body: Callable[[], bytes],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    warmup: int,
    min_requests: int = 0,
    cpu_probe: Callable[[], float] | None = None,
) -> LoadResult:
    """Closed loop: ``concurrency`` threads, each with its own Session, POSTing back to back until time or count end."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("the benchmark only sends traffic to 127.0.0.1")
    counter = itertools.count()
    window: dict[str, float] = {}

    def start() -> None:  # runs once, when every thread has warmed up
        if cpu_probe:
            window["cpu"] = cpu_probe()
        window["start"] = time.perf_counter()
        window["deadline"] = window["start"] + duration
        window["hard_deadline"] = window["start"] + duration * OVERTIME

    barrier = threading.Barrier(concurrency, action=start)
    per_thread: list[tuple[list[float], int, float]] = []
    error_kinds: Counter[str] = Counter()
    lock = threading.Lock()

    def client() -> None:
        latencies: list[float] = []
        errors = 0
        last = 0.0
        with requests.Session() as session:
            for _ in range(warmup):
                with contextlib.suppress(requests.RequestException):
                    session.post(url, data=body(), headers=HEADERS, timeout=60).content  # noqa: B018
            barrier.wait()
            while True:
                sent, now = next(counter), time.perf_counter()
                if sent >= max_requests or now >= window["hard_deadline"]:
                    break
                if now >= window["deadline"] and sent >= min_requests:
                    break
                data = body()
                started = time.perf_counter()
                problem = None
                try:
                    response = session.post(url, data=data, headers=HEADERS, timeout=60)
                    if response.status_code != 200 or not response.content:
                        problem = f"HTTP {response.status_code}"
                except requests.RequestException as exc:
                    problem = f"{type(exc).__name__} ({str(exc)[:70]})"
                last = time.perf_counter()
                if problem is None:
                    latencies.append((last - started) * 1000)
                else:
                    errors += 1
                    with lock:
                        error_kinds[problem] += 1
        with lock:
            per_thread.append((latencies, errors, last))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(lat for lats, _, _ in per_thread for lat in lats)
    errors = sum(e for _, e, _ in per_thread)
    end = max((t for _, _, t in per_thread), default=0.0)
    cpu = cpu_probe() - window["cpu"] if cpu_probe and "cpu" in window else math.nan
    return LoadResult(latencies, errors, max(0.0, end - window.get("start", end)), cpu, dict(error_kinds))


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def kib(status: dict[str, str], key: str) -> int | None:
    value = status.get(key, "").strip().split()
    return int(value[0]) if value else None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (the gunicorn workers of a master), from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    workers: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    rss_kib: dict[int, int] = field(default_factory=dict)  # worker pid -> highest VmRSS sampled
    hwm_kib: dict[int, int] = field(default_factory=dict)  # worker pid -> VmHWM (peak RSS) at last sample

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        argv = [*self.argv, "--port", str(self.port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.base}/cds-services", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")
        # gunicorn answers once one worker is up: wait for all of them to have loaded the app
        while (
            time.monotonic() < deadline and self.log.read_text(errors="replace").count("Booting worker") < self.workers
        ):
            time.sleep(0.2)
        time.sleep(0.5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def cpu_seconds(self) -> float:
        """CPU time of all current workers (a worker restarted mid-run would make this wrong: none expected)."""
        return sum(cpu_seconds(pid) for pid in children(self.process.pid)) if self.process else 0.0

    def sample_memory(self) -> None:
        if self.process is None:
            return
        for pid in children(self.process.pid):
            status = proc_status(pid)
            rss, hwm = kib(status, "VmRSS"), kib(status, "VmHWM")
            if rss is not None:
                self.rss_kib[pid] = max(rss, self.rss_kib.get(pid, 0))
            if hwm is not None:
                self.hwm_kib[pid] = hwm

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of master and workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def server_settings() -> tuple[int, int]:
    """Worker and thread counts of ``cds-service serve`` (its defaults)."""
    from cds_service.cli import build_parser

    args = build_parser().parse_args(["serve"])
    # ``--workers`` defaults to None: ``_serve`` then runs 2 (1 only with --insecure-demo, not used here)
    return args.workers or 2, args.threads


# --- machine ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    mem_kib = first("/proc/meminfo", "MemTotal").split()[0]
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 0
    return {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "CPUs (nproc)": str(affinity),
        "CPU model": first("/proc/cpuinfo", "model name"),
        "RAM": f"{int(mem_kib) / 1024 / 1024:.1f} GiB" if mem_kib.isdigit() else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "gunicorn / Flask / requests": " / ".join(
            importlib.metadata.version(p) for p in ("gunicorn", "flask", "requests")
        ),
        "commit": git_commit(),
    }


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + (" (work tree has uncommitted changes)" if dirty.stdout.strip() else "")


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Measurement:
    hook: str
    size: int
    concurrency: int
    request_bytes: int
    response_bytes: int
    cards: int
    service: LoadResult
    floor: LoadResult | None


@dataclass
class Report:
    mode: str
    settings: Mode
    command: str
    machine: dict[str, str]
    workers: int
    threads: int
    load_before: str
    load_after: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    service_rss_kib: dict[int, int] = field(default_factory=dict)
    service_hwm_kib: dict[int, int] = field(default_factory=dict)
    floor_hwm_kib: dict[int, int] = field(default_factory=dict)
    duration_s: float = 0.0

    def find(self, hook: str, size: int, concurrency: int) -> Measurement | None:
        for m in self.measurements:
            if (m.hook, m.size, m.concurrency) == (hook, size, concurrency):
                return m
        return None


def run(
    *,
    mode: Mode,
    mode_name: str,
    sizes: Iterable[int],
    hooks: Iterable[str],
    concurrency: Iterable[int],
    seed: int,
    keep_logs: bool = False,
    progress: Callable[[str], None] = print,
) -> Report:
    started = time.monotonic()
    sizes, hooks, concurrency = list(sizes), list(hooks), list(concurrency)
    workers, threads = server_settings()
    report = Report(
        mode=mode_name,
        settings=mode,
        command=" ".join(shlex.quote(a) for a in ["python", "-m", "bench.run", *sys.argv[1:]]),
        machine=machine(),
        workers=workers,
        threads=threads,
        load_before=load_average(),
    )
    progress(f"building requests for {sizes} resources ...")
    bodies = {
        (hook, size): RequestBody(request)
        for size in sizes
        for hook, request in build_requests(size, seed=seed, hooks=hooks).items()
    }
    tmp = Path(tempfile.mkdtemp(prefix="nen-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "FLOOR_", "DEMO_"))}
    server_flags = ["--workers", str(workers), "--threads", str(threads)]
    service = Server(
        "service",
        [sys.executable, "-m", "cds_service.cli", "serve", "--host", "127.0.0.1", *server_flags],
        {
            **base_env,
            "CDS_AUTH": "off",
            "CDS_ALLOW_INSECURE": "1",
            "DATABASE_URL": f"sqlite:///{tmp / 'feedback.sqlite3'}",
        },
        tmp / "service.log",
        workers,
    )
    floor: Server | None = None
    try:
        progress(f"starting the service on {service.base} ({workers} workers x {threads} threads) ...")
        service.start()
        url = {(h, s): f"{service.base}/cds-services/{SERVICE_IDS[h]}?bench={s}" for h, s in bodies}
        sizes_by_key: dict[str, int] = {}
        response_info: dict[tuple[str, int], tuple[int, int]] = {}
        for (hook, size), body in bodies.items():
            response = requests.post(url[hook, size], data=body(), headers=HEADERS, timeout=60)
            if response.status_code != 200:
                raise RuntimeError(f"{hook} {size}: HTTP {response.status_code}: {response.text[:500]}")
            cards = len(orjson.loads(response.content).get("cards", []))
            response_info[hook, size] = (len(response.content), cards)
            sizes_by_key[f"{SERVICE_IDS[hook]}?bench={size}"] = len(response.content)
        # warm both workers (imports, caches) before measuring anything
        for hook, size in bodies:
            generate_load(
                url[hook, size],
                bodies[hook, size],
                concurrency=2 * workers,
                duration=0.2,
                max_requests=4 * workers,
                warmup=0,
            )
        floor = Server(
            "floor",
            [sys.executable, "-m", "bench.floor_app", *server_flags],
            {**base_env, "FLOOR_BODY_BYTES_BY_KEY": orjson.dumps(sizes_by_key).decode()},
            tmp / "floor.log",
            workers,
        )
        progress(f"starting the floor on {floor.base} ...")
        floor.start()
        floor_url = {key: value.replace(service.base, floor.base) for key, value in url.items()}
        total = len(bodies) * len(concurrency)
        done = 0
        for size in sizes:
            for hook in hooks:
                for clients in concurrency:
                    done += 1
                    body = bodies[hook, size]
                    kw = {
                        "concurrency": clients,
                        "max_requests": mode.max_requests,
                        "min_requests": mode.min_requests,
                        "warmup": mode.warmup,
                    }
                    measured = generate_load(
                        url[hook, size], body, duration=mode.duration, cpu_probe=service.cpu_seconds, **kw
                    )
                    service.sample_memory()
                    floor_result = generate_load(
                        floor_url[hook, size], body, duration=mode.floor_duration, cpu_probe=floor.cpu_seconds, **kw
                    )
                    floor.sample_memory()
                    m = Measurement(hook, size, clients, body.size, *response_info[hook, size], measured, floor_result)
                    report.measurements.append(m)
                    progress(f"[{done:>2}/{total}] {row_text(m)}")
        service.sample_memory()
        floor.sample_memory()
        report.service_rss_kib = dict(service.rss_kib)
        report.service_hwm_kib = dict(service.hwm_kib)
        report.floor_hwm_kib = dict(floor.hwm_kib)
        errors_in_log = service.log.read_text(errors="replace").count('"level":"ERROR"')
        if errors_in_log:
            keep_logs = True
            progress(f"note: {errors_in_log} ERROR lines in the service log {service.log}")
    except BaseException:
        keep_logs = True
        raise
    finally:
        service.stop()
        if floor is not None:
            floor.stop()
        if keep_logs:
            progress(f"server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report.load_after = load_average()
    report.duration_s = time.monotonic() - started
    return report


# --- output -------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def row_text(m: Measurement) -> str:
    floor = m.floor.p(50) if m.floor else math.nan
    return (
        f"{m.hook:<13} {m.size:>5} res  c={m.concurrency:<2}  n={m.service.count:<5} err={m.service.errors:<3} "
        f"p50={ms(m.service.p(50)):>6} p95={ms(m.service.p(95)):>6} p99={ms(m.service.p(99)):>6} ms  "
        f"{m.service.throughput:7.1f} req/s  cpu={ms(m.service.cpu_ms_per_request):>6} ms/req  "
        f"floor p50={ms(floor):>6} ms  x{m.service.p(50) / floor:.1f}"
    )


def mib(kib_value: int | None) -> str:
    return "-" if kib_value is None else f"{kib_value / 1024:.1f}"


@dataclass
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured


def targets(report: Report) -> list[Target]:
    out: list[Target] = []
    pv = report.find("patient-view", TARGET_SIZE, TARGET_CONCURRENCY)
    where = f"patient-view, {TARGET_SIZE} resources, concurrency {TARGET_CONCURRENCY}"
    if pv:
        floor = pv.floor.p(50) if pv.floor else math.nan
        out.append(Target(f"p50 <= 10 ms ({where})", f"{ms(pv.service.p(50))} ms", pv.service.p(50) <= 10))
        out.append(Target(f"p99 <= 30 ms ({where})", f"{ms(pv.service.p(99))} ms", pv.service.p(99) <= 30))
        ratio = pv.service.p(50) / floor
        out.append(Target(f"p50 <= 3x floor p50 ({where})", f"{ratio:.1f}x (floor {ms(floor)} ms)", ratio <= 3))
        out.append(
            Target(f">= 150 hooks/s ({where})", f"{pv.service.throughput:.1f} req/s", pv.service.throughput >= 150)
        )
    else:
        out.append(Target(f"latency and throughput targets ({where})", "not measured", None))
    large = [m for m in report.measurements if m.size == LARGE_SIZE and m.concurrency == TARGET_CONCURRENCY]
    if large:
        worst = max(large, key=lambda m: m.service.p(99))
        out.append(
            Target(
                f"p99 <= 150 ms ({LARGE_SIZE} resources, concurrency {TARGET_CONCURRENCY}, every hook)",
                f"{ms(worst.service.p(99))} ms (worst: {worst.hook})",
                all(m.service.p(99) <= 150 for m in large),
            )
        )
    else:
        out.append(Target(f"p99 <= 150 ms ({LARGE_SIZE} resources)", "not measured", None))
    peaks = list(report.service_hwm_kib.values()) or list(report.service_rss_kib.values())
    if peaks:
        out.append(
            Target(
                "<= 150 MB RSS per worker (peak, VmHWM)",
                f"{mib(max(peaks))} MiB (highest worker)",
                max(peaks) <= 150 * 1024,
            )
        )
    for metric in ("CPU", "p50"):
        growth = linearity(report, metric)
        if growth:
            out.append(
                Target(
                    f"cost grows at most linearly (patient-view, concurrency 1, net {metric} per request, "
                    f"{TARGET_SIZE} -> {LARGE_SIZE} resources)",
                    f"{growth['small']:.1f} -> {growth['large']:.1f} ms per 1,000 resources; "
                    f"growth exponent {growth['exponent']:.2f}",
                    growth["exponent"] <= 1.1,
                )
            )
            break
    else:
        out.append(Target("cost grows at most linearly", "not measured", None))
    return out


def linearity(report: Report, metric: str = "CPU", hook: str = "patient-view") -> dict[str, float] | None:
    """Growth of the net cost (service minus floor) from TARGET_SIZE to LARGE_SIZE at concurrency 1.

    ``metric`` "CPU": server CPU ms per request (robust to other load on the machine); "p50": latency.
    exponent k in net(n) ~ n**k: 1 is linear; the target allows 1.1 for noise.
    """
    small, large = report.find(hook, TARGET_SIZE, 1), report.find(hook, LARGE_SIZE, 1)
    if not small or not large or not small.floor or not large.floor:
        return None

    def net(m: Measurement) -> float:
        assert m.floor is not None
        if metric == "CPU":
            return m.service.cpu_ms_per_request - m.floor.cpu_ms_per_request
        return m.service.p(50) - m.floor.p(50)

    net_small, net_large = net(small), net(large)
    if not (net_small > 0 and net_large > 0):  # also False for NaN
        return None
    return {
        "small": net_small * 1000 / TARGET_SIZE,
        "large": net_large * 1000 / LARGE_SIZE,
        "exponent": math.log(net_large / net_small) / math.log(LARGE_SIZE / TARGET_SIZE),
    }


def markdown(report: Report) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{report.command}` ({report.mode} mode) in {report.duration_s:.0f} s. "
        "Re-run it to refresh this file; see `bench/README.md` for the method.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in report.machine.items()),
        f"| load average (1/5/15 min) | before: {report.load_before}; after: {report.load_after} |",
        "",
        "**Noise warning:** the machine is shared (other engineers run test suites on it while this "
        "runs) and the load generator runs on the same CPUs as the servers. Treat the figures as "
        "indicative; compare runs only on an idle machine, and read the ratio to the floor (measured "
        "right after each service configuration) rather than absolute numbers.",
        "",
        "## Method",
        "",
        f"- Service: `cds-service serve` (gunicorn `cds_service.wsgi:app`, `--worker-class gthread`, "
        f"`--workers {report.workers} --threads {report.threads}` = the CLI defaults, `--timeout 30`, access log off), "
        "`CDS_AUTH=off CDS_ALLOW_INSECURE=1`, feedback database in a temporary SQLite file, log level INFO "
        "(one JSON line per hook, to a file).",
        "- Floor: `bench/floor_app.py` under the same gunicorn command line: reads the request body, "
        "returns a static JSON body of the same size as the service's response to the same request.",
        "- Data: `bench/bundles.py`, one synthetic G3 NEC patient (seeded) at 50 / 300 / 2,000 resources, "
        "split into the service's prefetch keys; order-select / order-sign carry 4 draft orders "
        "(SSTR-PET, carboplatin, etoposide, CT).",
        f"- Load: closed loop, one thread + `requests.Session` (keep-alive) per client, at concurrency "
        f"{', '.join(str(c) for c in sorted({m.concurrency for m in report.measurements}))}; "
        f"each request has a fresh hookInstance; {report.settings.warmup} warm-up request(s) per client "
        "not counted (and, before any measurement, a short warm-up of every hook x size). "
        "Latency = client-side time from send to full response (includes the client's own overhead, "
        "which the floor includes too). Throughput = successful responses / measuring window.",
        f"- Each configuration: the service ({report.settings.duration:g} s) first, then the floor "
        f"({report.settings.floor_duration:g} s), at most {report.settings.max_requests} requests each, "
        f"and at least {report.settings.min_requests} if that fits in {OVERTIME:g}x the time "
        "(n = requests measured: p99 of a few dozen samples is close to the maximum).",
        "- Memory: VmRSS / VmHWM of each gunicorn worker from /proc, sampled after every configuration.",
        "",
        "## Responses",
        "",
        "| hook | resources | request bytes | response bytes | cards |",
        "|---|---:|---:|---:|---:|",
    ]
    seen = set()
    for m in report.measurements:
        if (m.hook, m.size) not in seen:
            seen.add((m.hook, m.size))
            lines.append(f"| {m.hook} | {m.size} | {m.request_bytes:,} | {m.response_bytes:,} | {m.cards} |")
    for hook in dict.fromkeys(m.hook for m in report.measurements):
        lines += [
            "",
            f"## {hook}",
            "",
            "| resources | concurrency | n | errors | p50 ms | p95 ms | p99 ms | req/s | server CPU ms/req "
            "| floor p50 ms | floor p99 ms | floor req/s | floor CPU ms/req | p50 / floor p50 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in (x for x in report.measurements if x.hook == hook):
            f = m.floor
            lines.append(
                f"| {m.size} | {m.concurrency} | {m.service.count} | {m.service.errors} | {ms(m.service.p(50))} "
                f"| {ms(m.service.p(95))} | {ms(m.service.p(99))} | {m.service.throughput:.1f} "
                f"| {ms(m.service.cpu_ms_per_request)} "
                f"| {ms(f.p(50)) if f else '-'} | {ms(f.p(99)) if f else '-'} | {f.throughput if f else math.nan:.1f} "
                f"| {ms(f.cpu_ms_per_request) if f else '-'} "
                f"| {m.service.p(50) / f.p(50) if f else math.nan:.1f}x |"
            )
        failed = [
            x for x in report.measurements if x.hook == hook and (x.service.errors or (x.floor and x.floor.errors))
        ]
        for m in failed:
            kinds = ", ".join(f"{k} x{n}" for k, n in m.service.error_kinds.items()) or "none"
            floor_kinds = ", ".join(f"{k} x{n}" for k, n in (m.floor.error_kinds if m.floor else {}).items()) or "none"
            lines.append(
                f"\nErrors at {m.size} resources, concurrency {m.concurrency}: service {kinds}; floor {floor_kinds}."
            )
    lines += [
        "",
        "## Cost per 1,000 resources (concurrency 1)",
        "",
        "Wall-clock p50, and the server's CPU time per request (user + system time of the gunicorn "
        "workers during the measuring window / requests: far less sensitive to other load on the "
        "machine than latency). Net = service minus floor.",
        "",
        "| hook | resources | p50 ms | p50 ms per 1,000 res. | net p50 ms per 1,000 res. "
        "| server CPU ms/req | net CPU ms per 1,000 res. |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in (x for x in report.measurements if x.concurrency == 1):
        net = m.service.p(50) - (m.floor.p(50) if m.floor else math.nan)
        net_cpu = m.service.cpu_ms_per_request - (m.floor.cpu_ms_per_request if m.floor else math.nan)
        lines.append(
            f"| {m.hook} | {m.size} | {ms(m.service.p(50))} | {m.service.p(50) * 1000 / m.size:.1f} "
            f"| {net * 1000 / m.size:.1f} | {ms(m.service.cpu_ms_per_request)} | {net_cpu * 1000 / m.size:.1f} |"
        )
    lines += [
        "",
        "## Memory (RSS per gunicorn worker, MiB)",
        "",
        "| worker pid | highest VmRSS sampled | peak (VmHWM) |",
        "|---:|---:|---:|",
    ]
    for pid in sorted(report.service_hwm_kib or report.service_rss_kib):
        lines.append(f"| {pid} | {mib(report.service_rss_kib.get(pid))} | {mib(report.service_hwm_kib.get(pid))} |")
    if report.floor_hwm_kib:
        lines.append(f"\nFloor workers, peak: {', '.join(mib(v) for v in report.floor_hwm_kib.values())} MiB.")
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for t in targets(report):
        verdict = "not measured" if t.met is None else "met" if t.met else "**not met**"
        lines.append(f"| {t.name} | {t.measured} | {verdict} |")
    lines += [
        "",
        "Growth exponent k: net cost (service minus floor; server CPU time per request, else p50) ~ "
        f"resources^k between {TARGET_SIZE} and {LARGE_SIZE} resources; k <= 1.1 counts as linear "
        "(10 % allowance for noise).",
        "",
    ]
    return "\n".join(lines)


NOTES_MARKER = "<!-- notes: written by hand, kept when bench.run rewrites this file -->"


def kept_notes(path: Path) -> str:
    """The hand-written notes at the end of an existing report (from ``NOTES_MARKER`` on), if any."""
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    at = old.find(NOTES_MARKER)
    return "" if at < 0 else "\n" + old[at:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about a minute); prints only")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load per service configuration")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), choices=SIZES)
    parser.add_argument("--hooks", nargs="+", default=list(HOOKS), choices=HOOKS)
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs (kept anyway on errors)")
    parser.add_argument(
        "--out", type=Path, default=None, help="markdown report (default bench/RESULTS.md; none with --quick)"
    )
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    if args.duration:
        floor_duration = max(0.3, args.duration * mode.floor_duration / mode.duration)
        mode = Mode(args.duration, floor_duration, max(300, int(750 * args.duration)), mode.warmup, mode.min_requests)
    from bench.bundles import DEFAULT_SEED

    report = run(
        mode=mode,
        mode_name=("quick" if args.quick else "full") + (f", --duration {args.duration:g}" if args.duration else ""),
        sizes=args.sizes,
        hooks=args.hooks,
        concurrency=args.concurrency,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
        keep_logs=args.keep_logs,
    )
    text = markdown(report)
    print()
    for t in targets(report):
        verdict = "not measured" if t.met is None else "MET" if t.met else "NOT MET"
        print(f"{verdict:>12}  {t.name}: {t.measured}")
    out = args.out or (None if args.quick else RESULTS)
    if out:
        out.write_text(text + kept_notes(out), encoding="utf-8")
        print(f"\nwritten {out}")
    for m in report.measurements:
        if m.service.errors:
            print(f"errors: {m.hook} {m.size} c={m.concurrency}: {m.service.error_kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
