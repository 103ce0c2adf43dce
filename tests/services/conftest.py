"""Real PostgreSQL and Redis servers for the session, on free loopback ports in temporary folders.

PostgreSQL comes from the Debian packages (``/usr/lib/postgresql/<version>/bin``), Redis from
``redis-server``; ``.ci/run`` installs both. Tests here are marked ``services`` and skipped, with the
reason, only when the binaries are absent. As root, PostgreSQL runs as the ``postgres`` user (it
refuses root). Both servers are stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if candidates:
        return Path(candidates[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


@dataclass
class Postgres:
    url: str  # SQLAlchemy URL (postgresql+psycopg)
    port: int


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = _postgres_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql; .ci/run does it)")
    as_root = os.geteuid() == 0
    if as_root:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user: PostgreSQL refuses to run as root")
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
    base = Path(tempfile.mkdtemp(prefix="nen-pg-"))
    data = base / "data"
    port = _free_port()

    def run(*argv: str) -> subprocess.CompletedProcess:
        command = ["runuser", "-u", "postgres", "--", *argv] if as_root else list(argv)
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            log = (base / "server.log").read_text(errors="replace")[-2000:] if (base / "server.log").exists() else ""
            raise RuntimeError(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")
        return done

    if as_root:
        shutil.chown(base, "postgres", "postgres")
        os.chmod(base, 0o700)
    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "nen",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-instructions",
        "--no-sync",
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} -c fsync=off"
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(base / "server.log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    try:
        _wait_for_port(port, 30)
        yield Postgres(url=f"postgresql+psycopg://nen@127.0.0.1:{port}/postgres", port=port)
    finally:
        subprocess.run(
            (["runuser", "-u", "postgres", "--"] if as_root else [])
            + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not found (apt-get install redis-server; .ci/run does it)")
    base = Path(tempfile.mkdtemp(prefix="nen-redis-"))
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(base)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, 20, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def database_url(postgres) -> Iterator[str]:
    """A fresh database per test on the session's server."""
    import psycopg

    name = f"t_{os.getpid()}_{time.monotonic_ns()}"
    admin = f"host=127.0.0.1 port={postgres.port} user=nen dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""  # much faster here
        conn.execute(f'CREATE DATABASE "{name}"{strategy}')
    yield f"postgresql+psycopg://nen@127.0.0.1:{postgres.port}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
