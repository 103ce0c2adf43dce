"""A real FHIR R4 server for tests: Medplum's FHIR router (in-memory) behind tests/fhir_server/server.js.

Import the fixtures into a conftest (``from tests.support.fhir_server import fhir_server, fhir_server_url``).

- ``fhir_server_url`` (session): starts one server per pytest process (each xdist worker its own) on a
  free 127.0.0.1 port, waits until it answers, yields its base URL and stops it at the end. The server
  requires the bearer token ``FhirServer.token`` on every FHIR request.
- ``fhir_server`` (function): the same server, reset to its start-up state (no data, no delay, no
  fault, empty request log) before the test, as a ``FhirServer`` handle with admin helpers.

Both skip the test, with the reason, when Node.js or tests/fhir_server/node_modules is missing
(``make fhir-server-deps`` installs the latter).
"""

from __future__ import annotations

import os
import secrets
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

SERVER_DIR = Path(__file__).resolve().parents[1] / "fhir_server"
START_TIMEOUT_SECONDS = 60.0  # ~3 s on an idle machine; a heavily loaded one needs far more


@dataclass
class FhirServer:
    """Handle on the running test server: its base URL, the token it requires, and admin calls."""

    base_url: str
    token: str

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.base_url}/$admin/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Empty repository and request log; no delay, no fault; token required again."""
        self._admin("POST", "reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change server behaviour: requireToken, delayMs, defaultCount, nextLinkBase, fault."""
        return self._admin("POST", "config", settings)

    def set_delay(self, ms: int) -> None:
        self._admin("POST", "delay", {"ms": ms})

    def requests(self) -> list[dict[str, Any]]:
        """FHIR requests received so far: method, url (path and query), host, authorization, time."""
        return self._admin("GET", "requests")["requests"]

    def clear_requests(self) -> None:
        self._admin("DELETE", "requests")

    def seed(self, *resources: dict[str, Any]) -> dict[str, Any]:
        """PUT the resources (they keep their ids) in one FHIR transaction Bundle."""
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
                for r in resources
            ],
        }
        response = requests.post(
            f"{self.base_url}/",
            json=bundle,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"},
            timeout=10,
        )
        response.raise_for_status()
        result = response.json()
        statuses = [str(e.get("response", {}).get("status", "")) for e in result.get("entry", [])]
        failed = [s for s in statuses if not s.startswith("2")]
        assert not failed, f"seeding failed: {failed}"
        return result


def _node_command() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("FHIR-server tests need Node.js (`node` not found on PATH)")
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        pytest.skip("FHIR-server tests need tests/fhir_server/node_modules: run `make fhir-server-deps`")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    major = int(version.lstrip("v").split(".")[0] or 0)
    # @medplum/core needs a global WebSocket at load time: built in from Node 22, behind a flag on 20-21.
    flags = ["--experimental-websocket"] if major < 22 else []
    return [node, *flags, "server.js", "--port", "0", "--host", "127.0.0.1", "--exit-on-stdin-close"]


def _read_port(process: subprocess.Popen[bytes], deadline: float) -> int:
    assert process.stdout is not None
    buffer = b""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 1024)
        if not chunk:
            break
        buffer += chunk
        for line in buffer.splitlines():
            if line.startswith(b"LISTENING "):
                return int(line.split()[1])
    raise RuntimeError(f"test FHIR server did not start: {buffer.decode(errors='replace')[:500]}")


def _wait_ready(base_url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/$admin/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError("test FHIR server did not become ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


@pytest.fixture(scope="session")
def _fhir_server_session() -> Iterator[FhirServer]:
    command = _node_command()
    token = "test-" + secrets.token_urlsafe(16)
    env = {**os.environ, "REQUIRE_TOKEN": token, "DELAY_MS": "0"}
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            command, cwd=SERVER_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            try:
                port = _read_port(process, deadline)
                server = FhirServer(base_url=f"http://127.0.0.1:{port}", token=token)
                _wait_ready(server.base_url, deadline)
            except RuntimeError as exc:
                stderr.seek(0)
                raise RuntimeError(f"{exc}; stderr: {stderr.read().decode(errors='replace')[-2000:]}") from None
            yield server
        finally:
            _stop(process)


@pytest.fixture(scope="session")
def fhir_server_url(_fhir_server_session: FhirServer) -> str:
    return _fhir_server_session.base_url


@pytest.fixture()
def fhir_server(_fhir_server_session: FhirServer) -> FhirServer:
    _fhir_server_session.reset()
    return _fhir_server_session
