"""No PHI and no token in the logs, for successful and failing calls alike.

The requests below carry a patient's name, identifier, birth date (in a prefetched Patient and
Condition), a FHIR access token and the EHR's JWT, and are sent in every shape that fails somewhere
(bad JWT, invalid context, invalid prefetch, unknown service named after the patient, unreachable FHIR
server, invalid feedback). Everything the service logs, at every level, is captured as emitted.
"""

from __future__ import annotations

import copy
import io
import logging

import pytest

from cds_service.logging_setup import JsonFormatter
from tests.security.tokens import Signer, auth_app, bearer
from tests.support.fhir import hook_request, ki67, m_category, nen_condition

SERVICE = "nanets-g3-nen-patient-view"
HOOK = f"/cds-services/{SERVICE}"
FEEDBACK = f"{HOOK}/feedback"

FAMILY, GIVEN = "Quixotic-Marlowe", "Josephine"
MRN = "MRN-99173-4"
SSN = "999-41-7723"
BIRTH_DATE = "1957-03-14"
PATIENT_ID = "pt-7f3a9c"
ACCESS_TOKEN = "fhir-access-token-5b1e0c9d7a"
PHI = [FAMILY, GIVEN, MRN, SSN, BIRTH_DATE, "1957", PATIENT_ID]


def patient() -> dict:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "identifier": [
            {"system": "urn:oid:1.2.3.4", "value": MRN},
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": SSN},
        ],
        "name": [{"family": FAMILY, "given": [GIVEN], "text": f"{GIVEN} {FAMILY}"}],
        "birthDate": BIRTH_DATE,
        "gender": "female",
    }


def phi_request() -> dict:
    condition = nen_condition("NEC", patient_id=PATIENT_ID)
    condition["subject"]["display"] = f"{GIVEN} {FAMILY}"
    condition["note"] = [{"text": f"{GIVEN} {FAMILY}, born {BIRTH_DATE}, {MRN}"}]
    request = hook_request(
        "patient-view",
        condition,
        ki67(70, patient_id=PATIENT_ID),
        m_category(patient_id=PATIENT_ID),
        patient_id=PATIENT_ID,
    )
    request["prefetch"]["patient"] = patient()
    request["fhirServer"] = "http://127.0.0.1:9/fhir"  # nothing listens there
    request["fhirAuthorization"] = {
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds-service",
    }
    return request


@pytest.fixture()
def captured():
    """Everything logged, formatted exactly as the service emits it, at DEBUG and above."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    saved = root.level, logging.getLogger("cds_service").level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("cds_service").setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        logging.getLogger("cds_service").setLevel(saved[1])


def test_no_phi_and_no_token_in_logs(tmp_path, captured):
    signer = Signer("EC", "phi-test")
    app = auth_app(tmp_path, signer)
    client = app.test_client()
    tokens: list[str] = []

    def token(path: str, **claims) -> dict[str, str]:
        tokens.append(signer.token(path, **claims))
        return bearer(tokens[-1])

    statuses = []

    def call(method: str, path: str, body=None, headers=None, **kw):
        response = client.open(path, method=method, json=body, headers=headers or {}, **kw)
        statuses.append(response.status_code)
        return response

    # 1. success, every prefetch key supplied
    full = phi_request()
    assert call("POST", HOOK, full, token(HOOK)).status_code == 200
    # 2. some prefetch missing: the service tries the (unreachable) FHIR server with the access token
    partial = phi_request()
    for key in ("observations", "diagnosticReports", "procedures"):
        partial["prefetch"].pop(key)
    call("POST", HOOK, partial, token(HOOK))
    # 3. expired JWT, and a replayed one
    call("POST", HOOK, phi_request(), token(HOOK, exp=1_000_000_000, iat=999_999_000))
    replayed = token(HOOK)
    assert call("POST", HOOK, phi_request(), replayed).status_code == 200
    assert call("POST", HOOK, phi_request(), replayed).status_code == 401
    # 4. valid JWT, invalid requests quoting patient data back
    wrong_hook = phi_request()
    wrong_hook["hook"] = "order-sign"
    assert call("POST", HOOK, wrong_hook, token(HOOK)).status_code == 400
    bad_context = phi_request()
    bad_context["context"]["patientId"] = {"name": f"{GIVEN} {FAMILY}", "birthDate": BIRTH_DATE, "mrn": MRN}
    assert call("POST", HOOK, bad_context, token(HOOK)).status_code == 400
    bad_prefetch = phi_request()
    bad_prefetch["prefetch"]["patient"] = {"name": f"{GIVEN} {FAMILY}", "identifier": MRN, "birthDate": BIRTH_DATE}
    assert call("POST", HOOK, bad_prefetch, token(HOOK)).status_code == 400
    garbled = phi_request()
    garbled["prefetch"]["conditions"]["entry"].append(
        {"resource": {"resourceType": "Condition", "code": f"{GIVEN} {FAMILY} {MRN}", "subject": BIRTH_DATE}}
    )
    call("POST", HOOK, garbled, token(HOOK))
    not_json = f'{{"hook": "patient-view", "context": {{"name": "{GIVEN} {FAMILY}"'
    assert call("POST", HOOK, data=not_json, headers=token(HOOK), content_type="application/json").status_code == 400
    # 5. patient data in the URL
    name_path = f"/cds-services/{GIVEN}-{FAMILY}-{MRN}"
    assert call("POST", name_path, phi_request(), token(name_path)).status_code == 404
    assert (
        call("GET", f"/cds-services?name={FAMILY}&birthdate={BIRTH_DATE}", headers=token("/cds-services")).status_code
        == 200
    )
    assert call("GET", f"/Patient/{PATIENT_ID}?name={FAMILY}").status_code == 404
    # 6. feedback with a comment naming the patient, valid and invalid
    comment = {"reason": {"system": "urn:x", "code": "declined"}, "userComment": f"{GIVEN} {FAMILY} ({MRN}) declined"}
    item = {
        "card": "c-1",
        "outcome": "overridden",
        "overrideReason": comment,
        "outcomeTimestamp": "2026-10-01T00:00:00Z",
    }
    assert call("POST", FEEDBACK, {"feedback": [item]}, token(FEEDBACK)).status_code == 200
    bad_item = {**copy.deepcopy(item), "outcome": f"{GIVEN} {FAMILY}"}
    assert call("POST", FEEDBACK, {"feedback": [bad_item]}, token(FEEDBACK)).status_code == 400

    log_text = captured.getvalue()
    lines = log_text.splitlines()
    # The capture worked: one request line per call, each with its status.
    request_lines = [line for line in lines if '"msg":"request"' in line]
    assert len(request_lines) == len(statuses)
    for reason in ("ExpiredSignatureError", "jti replayed", "is a required property", "no CDS Service"):
        assert reason in log_text  # the failures happened, and were logged
    lowered = log_text.lower()
    for value in PHI:
        assert value.lower() not in lowered, f"PHI {value!r} logged"
    assert ACCESS_TOKEN not in log_text
    for jwt_token in tokens:
        _header, payload, signature = jwt_token.split(".")
        assert payload not in log_text and signature not in log_text
