"""The explanation page: why each card was (or was not) shown, for clinicians.

``init_app`` registers ``app.extensions["nen_explain"]`` (an ``Explainer``: caches each
patient-view evaluation and links every card to it with a signed, short-lived token) and the
``/explain`` pages, including the SMART App Launch that opens the same page from inside the EHR.
"""

from __future__ import annotations

from flask import Flask

from cds_service.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    from cds_service.explain.routes import bp
    from cds_service.explain.service import Explainer

    app.extensions["nen_explain"] = Explainer(settings)
    app.register_blueprint(bp)
