"""NANETS 2023 high-grade neuroendocrine neoplasm CDS Hooks service."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask
from flask_cors import CORS

from cds_service.settings import Settings

__all__ = ["Settings", "create_app"]


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the Flask app. ``create_app({"CDS_AUTH": "off"})`` runs with embedded defaults."""
    from cds_service.api import error_handlers, health_routes, hooks_routes
    from cds_service.api.json_provider import OrjsonProvider
    from cds_service.fhir_data.prefetch import default_client_factory
    from cds_service.logging_setup import configure_logging
    from cds_service.startup import check_knowledge_base

    settings = Settings.load(config)
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.json_provider_class = OrjsonProvider
    app.json = OrjsonProvider(app)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["nen_fhir_client_factory"] = settings.extra.get("FHIR_CLIENT_FACTORY", default_client_factory)
    app.extensions["nen_ready_checks"] = {}

    check_knowledge_base()  # fail fast: a bad value set, template or rule stops the start
    CORS(
        app,
        resources={r"/*": {"origins": "*"}},
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )
    error_handlers.register_error_handlers(app)
    app.register_blueprint(health_routes.bp)
    app.register_blueprint(hooks_routes.bp)
    for extension in _optional_extensions():
        extension(app, settings)
    _warm_caches()
    _tune_garbage_collector()
    if not settings.auth_enabled:
        logging.getLogger("cds_service").warning(
            "CDS_AUTH=off: JWT verification is disabled. Use only for local demos and tests."
        )
    return app


def _warm_caches() -> None:
    """Build the per-process lookups every hook call uses now, not in the first calls: building the
    concept index takes a few hundred ms (once per thread that races for it), and what exists before
    ``gc.freeze`` is never walked by the garbage collector again."""
    from cds_service.facts.extract.index import concept_index
    from cds_service.hooks.validation import SCHEMA_DIR, validator

    concept_index()
    for schema in sorted(SCHEMA_DIR.glob("*.json")):
        validator(schema.name)


def _tune_garbage_collector() -> None:
    """Parsing a large prefetch creates ~100 objects per resource in a burst; with CPython's default
    thresholds (700, 10, 10) that triggers hundreds of collections per request, each walking the
    app's long-lived objects too. Move what exists at start-up out of the collector's sight
    (``gc.freeze``) and collect the young generation less often: request garbage is acyclic."""
    import gc

    gc.collect()
    gc.freeze()
    # 200,000: above what the requests in flight in one worker hold (a 2,000-resource prefetch parses into
    # ~31,000 containers, ~40,000 while processed; 4 threads), so a young collection, which walks all of
    # them (tens of ms), stays rare. Request garbage is freed by reference counting; the few cycles wait.
    gc.set_threshold(200_000, 20, 50)


def _optional_extensions():
    """Feature modules that attach themselves with ``init_app(app, settings)``."""
    import importlib

    for name in (
        "cds_service.security.auth",
        "cds_service.hooks.feedback",
        "cds_service.api.fhir_routes",
        "cds_service.explain",
        "cds_service.demo",
    ):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        yield module.init_app
