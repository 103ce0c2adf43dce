"""SMART App Launch (EHR launch) of the explanation page against a fake EHR on 127.0.0.1.

The fake EHR has a SMART configuration, an authorization endpoint that approves the launch at
once (as an EHR does for a user already signed in), a token endpoint that checks the code and the
PKCE verifier, and a FHIR endpoint answering the patient-view prefetch queries with a Bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from flask import Flask, abort, jsonify, redirect, request
from werkzeug.serving import make_server

from cds_service import create_app
from cds_service.hooks.services import PATIENT_PREFETCH
from tests.explain import conftest as f
from tests.support.fhir import ki67, m_category, nen_condition

CLIENT_ID = "nen-explain-test"
LAUNCH = "launch-abc-123"
ACCESS_TOKEN = "at-0123456789"
SMART_PATIENT = "pt-smart-77"


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


class FakeEhr:
    def __init__(self):
        self.base = ""
        self.codes: dict[str, dict] = {}
        self.fhir_calls: list[tuple[str, str, str | None]] = []
        self.authorize_calls: list[dict] = []
        self.refuse_token = False
        self.resources = [
            nen_condition("NEC", id="nen-1", patient_id=SMART_PATIENT),
            ki67(80, id="ki67-1", patient_id=SMART_PATIENT),
            m_category(id="m1", patient_id=SMART_PATIENT),
        ]
        self.app = self._build()

    @property
    def iss(self) -> str:
        return self.base + "/fhir"

    def _build(self) -> Flask:
        app = Flask("fake-ehr")

        @app.get("/fhir/.well-known/smart-configuration")
        def smart_configuration():
            return jsonify(
                {
                    "authorization_endpoint": self.base + "/auth/authorize",
                    "token_endpoint": self.base + "/auth/token",
                    "capabilities": ["launch-ehr", "client-public", "context-ehr-patient"],
                    "code_challenge_methods_supported": ["S256"],
                }
            )

        @app.get("/auth/authorize")
        def authorize():
            args = request.args.to_dict()
            self.authorize_calls.append(args)
            if args.get("launch") != LAUNCH or args.get("client_id") != CLIENT_ID or args.get("aud") != self.iss:
                abort(400)
            if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
                abort(400)
            code = f"code-{len(self.codes)}"
            self.codes[code] = args
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}")

        @app.post("/auth/token")
        def token():
            form = request.form
            issued = self.codes.pop(form.get("code", ""), None)
            if self.refuse_token or issued is None or form.get("grant_type") != "authorization_code":
                return jsonify({"error": "invalid_grant"}), 400
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if challenge != issued["code_challenge"] or form.get("redirect_uri") != issued["redirect_uri"]:
                return jsonify({"error": "invalid_grant"}), 400
            if form.get("client_id") != CLIENT_ID:
                return jsonify({"error": "invalid_client"}), 401
            return jsonify(
                {
                    "access_token": ACCESS_TOKEN,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": issued["scope"],
                    "patient": SMART_PATIENT,
                }
            )

        @app.get("/fhir/<rtype>")
        def search(rtype: str):
            auth = request.headers.get("Authorization")
            self.fhir_calls.append((rtype, request.args.get("patient", ""), auth))
            if auth != f"Bearer {ACCESS_TOKEN}":
                return jsonify({"resourceType": "OperationOutcome"}), 401
            entries = [
                {"resource": r}
                for r in self.resources
                if r["resourceType"] == rtype and r["subject"]["reference"] == f"Patient/{request.args.get('patient')}"
            ]
            return jsonify({"resourceType": "Bundle", "type": "searchset", "entry": entries})

        return app


@pytest.fixture()
def ehr() -> Iterator[FakeEhr]:
    fake = FakeEhr()
    with serve(fake.app) as base:
        fake.base = base
        yield fake


@pytest.fixture()
def service(ehr, tmp_path, monkeypatch) -> Iterator[str]:
    monkeypatch.setattr("cds_service.pipeline.build_facts", lambda record, *, today: f.nec_metastatic())
    app = create_app(
        {
            "CDS_AUTH": "off",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}",
            "SMART_CLIENT_ID": CLIENT_ID,
            "SMART_ISSUERS": ehr.iss + "/",  # trailing slash: issuers compare without it
        }
    )
    with serve(app) as base:
        yield base


def test_an_ehr_launch_reads_the_patient_with_the_token_and_shows_the_explanation(ehr, service):
    response = requests.get(f"{service}/explain/smart/launch", params={"iss": ehr.iss, "launch": LAUNCH}, timeout=20)
    assert response.status_code == 200, response.text[:500]
    assert urlsplit(response.url).path.startswith("/explain/") and "smart" not in urlsplit(response.url).path
    assert [urlsplit(r.headers["Location"]).path for r in response.history] == [
        "/auth/authorize",
        "/explain/smart/callback",
        urlsplit(response.url).path,
    ]
    [auth] = ehr.authorize_calls
    assert auth["redirect_uri"] == f"{service}/explain/smart/callback" and auth["scope"] == "launch patient/*.read"
    # every patient-view prefetch query, for the launch's patient, with the access token
    queried = {(rtype, patient) for rtype, patient, _ in ehr.fhir_calls}
    expected = {(q.split("?")[0], SMART_PATIENT) for q in PATIENT_PREFETCH.values()}
    assert queried == expected
    assert {a for _, _, a in ehr.fhir_calls} == {f"Bearer {ACCESS_TOKEN}"}
    page = response.text
    assert "opened from the EHR (SMART launch)" in page
    assert "3 FHIR resource(s) read: 1 Condition, 2 Observation" in page
    assert 'data-step="differentiation" data-value="NEC" data-chosen="true"' in page
    for secret in (ACCESS_TOKEN, SMART_PATIENT, LAUNCH):
        assert secret not in page and secret not in response.url


def test_a_launch_from_an_unregistered_fhir_server_is_refused_without_contacting_it(ehr, service):
    other = ehr.base + "/other-fhir"
    response = requests.get(f"{service}/explain/smart/launch", params={"iss": other, "launch": LAUNCH}, timeout=10)
    assert response.status_code == 403 and "not registered" in response.text
    assert ehr.authorize_calls == [] and ehr.fhir_calls == []


def test_a_launch_without_launch_parameters_explains_how_to_open_the_page(service):
    response = requests.get(f"{service}/explain/smart/launch", timeout=10)
    assert response.status_code == 400 and "Launch from the EHR" in response.text


def test_a_callback_with_an_unknown_state_is_refused(ehr, service):
    response = requests.get(f"{service}/explain/smart/callback", params={"code": "x", "state": "forged"}, timeout=10)
    assert response.status_code == 400 and "no longer valid" in response.text
    assert ehr.fhir_calls == []


def test_a_state_is_single_use(ehr, service):
    first = requests.get(
        f"{service}/explain/smart/launch", params={"iss": ehr.iss, "launch": LAUNCH}, allow_redirects=False, timeout=10
    )
    authorize = requests.get(first.headers["Location"], allow_redirects=False, timeout=10)
    callback = authorize.headers["Location"]
    assert requests.get(callback, timeout=20).status_code == 200
    replay = requests.get(callback, timeout=10)
    assert replay.status_code == 400


def test_a_refused_token_exchange_shows_an_error_page_and_reads_nothing(ehr, service):
    ehr.refuse_token = True
    response = requests.get(f"{service}/explain/smart/launch", params={"iss": ehr.iss, "launch": LAUNCH}, timeout=20)
    assert response.status_code == 502 and "refused the authorization code" in response.text
    assert ehr.fhir_calls == []


def test_the_user_declining_authorization_is_reported(service):
    response = requests.get(
        f"{service}/explain/smart/callback", params={"error": "access_denied", "state": "s"}, timeout=10
    )
    assert response.status_code == 400 and "did not authorize" in response.text


def test_smart_launch_is_off_without_a_client_id(tmp_path):
    app = create_app({"CDS_AUTH": "off", "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}"})
    response = app.test_client().get("/explain/smart/launch?iss=https://ehr.example/fhir&launch=x")
    assert response.status_code == 404 and "not configured" in response.get_data(as_text=True)
