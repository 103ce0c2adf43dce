"""Test CDS Clients: keys generated here (EC P-384, RSA 2048), signed JWTs, a local JWKS server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service import create_app

ISS = "https://ehr.example.org"
BASE = "https://cds.example.org"
OMIT = object()  # claim value that leaves the claim out


class Signer:
    """One CDS Client key pair."""

    def __init__(self, kind: str = "EC", kid: str | None = None, *, iss: str = ISS):
        self.kind = kind
        self.kid = kid or f"{kind.lower()}-{uuid.uuid4().hex[:8]}"
        self.iss = iss
        if kind == "EC":
            self.private = ec.generate_private_key(ec.SECP384R1())
            self.alg = "ES384"
        elif kind == "EC256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = "RS384"

    def jwk(self, **extra: Any) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.kind == "RSA" else ECAlgorithm
        data = json.loads(algorithm.to_jwk(self.private.public_key()))
        data.update({"kid": self.kid, "use": "sig"}, **extra)
        return data

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def claims(self, path: str = "/cds-services", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.iss,
            "aud": BASE + path,
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not OMIT}

    def token(
        self, path: str = "/cds-services", *, alg: str | None = None, headers: dict[str, Any] | None = None, **claims
    ) -> str:
        header = {"kid": self.kid, "typ": "JWT"}
        header.update(headers or {})
        header = {k: v for k, v in header.items() if v is not OMIT}
        return jwt.encode(self.claims(path, **claims), self.private, algorithm=alg or self.alg, headers=header)


def b64(data: bytes | dict[str, Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """alg 'none': header.payload. (empty signature)."""
    return f"{b64(header)}.{b64(claims)}."


def hmac_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token built by hand (PyJWT refuses a public key as HMAC secret, attackers do not)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def write_jwks(path: Path, *signers: Signer) -> Path:
    path.write_text(json.dumps({"keys": [s.jwk() for s in signers]}), encoding="utf-8")
    return path


def auth_app(tmp_path: Path, *signers: Signer, **settings: Any):
    """An app with JWT verification on, trusting ISS with ``signers``' keys in a pinned JWKS file."""
    config: dict[str, Any] = {
        "CDS_AUTH": "on",
        "CDS_PUBLIC_BASE_URL": BASE,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
    }
    if signers:
        config["CDS_TRUSTED_ISSUERS"] = ISS
        config["CDS_JWKS_FILE"] = str(write_jwks(tmp_path / "jwks.json", *signers))
    config.update(settings)
    return create_app(config)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class JwksServer:
    """A JWKS served over HTTP on 127.0.0.1 (a thread); counts the requests it answers."""

    def __init__(self, *signers: Signer):
        self.jwks: dict[str, Any] = {"keys": [s.jwk() for s in signers]}
        self.hits = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                if self.path != "/jwks.json":
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(server.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output quiet
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def set_keys(self, *signers: Signer) -> None:
        self.jwks = {"keys": [s.jwk() for s in signers]}


@contextmanager
def jwks_server(*signers: Signer) -> Iterator[JwksServer]:
    server = JwksServer(*signers)
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(5)
