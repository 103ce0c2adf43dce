"""Liveness and readiness probes (no authentication, no PHI)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks: dict[str, str] = {}
    ok = True
    for name, check in current_app.extensions.get("nen_ready_checks", {}).items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # a probe reports any failure as not ready, never raises
            checks[name] = f"failed: {type(exc).__name__}"
            ok = False
    return jsonify({"status": "ready" if ok else "not ready", "checks": checks}), (200 if ok else 503)
