"""``/explain/<token>`` (the explanation page) and the SMART launch that leads to it. HTML only."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from datetime import UTC, datetime

from flask import Blueprint, current_app, redirect, render_template, request

from cds_service.api.errors import PreconditionFailed
from cds_service.explain import diagram, smart
from cds_service.explain.service import Explainer
from cds_service.explain.store import StoreUnavailable
from cds_service.explain.summary import explanation
from cds_service.explain.tokens import ExpiredToken, InvalidToken
from cds_service.fhir_data.prefetch import gather_record
from cds_service.hooks.services import PATIENT_PREFETCH
from cds_service.pipeline import evaluate_record
from cds_service.rendering.cards import CardContext, render_cards, templates
from cds_service.settings import Settings

log = logging.getLogger("cds_service.explain")
bp = Blueprint("explain", __name__, url_prefix="/explain", template_folder="templates")

# Everything inline: no script, no external asset, never embedded in a third-party frame unknowingly.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _explainer() -> Explainer:
    return current_app.extensions["nen_explain"]


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _service_base() -> str:
    return (_settings().cds_public_base_url or request.host_url).rstrip("/")


@bp.after_request
def _headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to the guideline site
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers.setdefault("Content-Security-Policy", _CSP)
    return response


def _message(status: int, title: str, message: str):
    return render_template("explain/message.html", title=title, message=message), status


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.error("explanation page failed", extra={"path": request.path.split("/")[1], "error": type(exc).__name__})
    return _message(500, "Something went wrong", "The explanation could not be shown. Please try again from the EHR.")


@bp.get("/<token>")
def page(token: str):
    try:
        snapshot = _explainer().load(token)
    except InvalidToken:
        return _message(
            404,
            "This explanation link is not valid",
            "The link is incomplete or was not issued by this service. Open the card again in the EHR.",
        )
    except ExpiredToken:
        return _message(
            410,
            "This explanation link has expired",
            "Explanation links are short-lived to protect patient data. Open the patient's chart again in "
            "the EHR to get a fresh link.",
        )
    except StoreUnavailable:
        return _message(503, "Explanation unavailable", "The explanation cache is unreachable. Please try again.")
    expires = datetime.fromtimestamp(snapshot["expires"], UTC).strftime("%H:%M UTC")
    return render_template(
        "explain/page.html",
        s=snapshot,
        svg=diagram.layout(snapshot["path"]),
        path_sentence=diagram.sentence(snapshot["path"]),
        expires=expires,
        guideline_url=_settings().guideline_url,
        guideline_label=templates()["guideline_link_label"],
        level_short=templates().get("level_short", {}),
    )


# ---------------------------------------------------------------- SMART App Launch (EHR launch)


def _redirect_uri() -> str:
    return _settings().smart_redirect_url or f"{_service_base()}/explain/smart/callback"


@bp.get("/smart/launch")
def smart_launch():
    settings = _settings()
    if not _explainer().smart_enabled:
        return _message(404, "SMART launch not configured", "This service has no SMART client registration.")
    iss, launch = request.args.get("iss", ""), request.args.get("launch", "")
    if not iss or not launch:
        return _message(
            400, "Launch from the EHR", "This page is opened by the EHR with its launch and iss parameters."
        )
    allowed = {smart.normalize_iss(i) for i in settings.smart_issuers}
    if smart.normalize_iss(iss) not in allowed:
        log.info("smart launch refused: issuer not configured")
        return _message(403, "Unknown EHR", "This EHR's FHIR server is not registered with the service.")
    try:
        endpoints = smart.discover(iss)
    except smart.SmartError as exc:
        return _message(exc.status, "Launch failed", exc.message)
    state = secrets.token_urlsafe(24)
    verifier, challenge = smart.pkce_pair()
    _explainer().save_state(
        state,
        {
            "iss": smart.normalize_iss(iss),
            "token_endpoint": endpoints.token,
            "verifier": verifier,
            "redirect_uri": _redirect_uri(),
        },
    )
    url = smart.authorize_url(
        endpoints,
        client_id=settings.smart_client_id,
        redirect_uri=_redirect_uri(),
        scope=settings.smart_scope,
        state=state,
        launch=launch,
        aud=iss,
        code_challenge=challenge,
    )
    return redirect(url, 302)


@bp.get("/smart/callback")
def smart_callback():
    settings = _settings()
    if request.args.get("error"):
        return _message(400, "Authorization refused", "The EHR did not authorize the explanation app.")
    saved = _explainer().take_state(request.args.get("state", ""))
    if saved is None:
        return _message(400, "Launch expired", "This launch is no longer valid. Open the app again from the EHR.")
    code = request.args.get("code", "")
    if not code:
        return _message(400, "Launch failed", "The EHR sent no authorization code.")
    try:
        token = smart.exchange_code(
            saved["token_endpoint"],
            code=code,
            redirect_uri=saved["redirect_uri"],
            client_id=settings.smart_client_id,
            client_secret=settings.smart_client_secret,
            code_verifier=saved["verifier"],
        )
    except smart.SmartError as exc:
        return _message(exc.status, "Launch failed", exc.message)
    patient_id = token["patient"]
    pseudo_request = {
        "context": {"patientId": patient_id},
        "prefetch": {},
        "fhirServer": saved["iss"],
        "fhirAuthorization": {"access_token": token["access_token"], "token_type": "Bearer"},
    }
    # An interactive page may wait longer than a hook: give the FHIR reads a few seconds.
    fetch_settings = dataclasses.replace(
        settings,
        fhir_budget_seconds=max(settings.fhir_budget_seconds, 10.0),
        fhir_timeout_seconds=max(settings.fhir_timeout_seconds, 5.0),
    )
    try:
        record = gather_record(
            pseudo_request, PATIENT_PREFETCH, fetch_settings, current_app.extensions["nen_fhir_client_factory"]
        )
    except PreconditionFailed:
        return _message(502, "EHR data unavailable", "The EHR's FHIR server could not be reached.")
    _, evaluation = evaluate_record(record, "patient-view")
    ctx = CardContext(
        hook_instance=secrets.token_hex(8),
        service_base=_service_base(),
        patient_id=patient_id,
        guideline_url=settings.guideline_url,
    )
    cards = render_cards(evaluation, ctx, record.unreadable)
    snapshot = explanation(evaluation, record, cards)
    snapshot["via"] = "smart"
    return redirect(f"{_service_base()}/explain/{_explainer().publish(snapshot)}", 303)
