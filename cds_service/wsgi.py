"""Production entry point (gunicorn ``cds_service.wsgi:app``).

Refuses to start with JWT verification off unless CDS_ALLOW_INSECURE=1 says so explicitly:
a CDS service that trusts any caller must never reach production by accident.
"""

from __future__ import annotations

import os

from cds_service import create_app
from cds_service.settings import Settings


class InsecureConfiguration(RuntimeError):
    pass


def build_production_app():
    settings = Settings.load()
    if not settings.auth_enabled and os.environ.get("CDS_ALLOW_INSECURE") != "1":
        raise InsecureConfiguration(
            "CDS_AUTH=off on the production entry point: set CDS_ALLOW_INSECURE=1 to force it (demos only)"
        )
    return create_app()


app = build_production_app()
