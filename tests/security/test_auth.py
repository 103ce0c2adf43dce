"""JWT verification on /cds-services (CDS Hooks 2.0.1 "Trusting CDS Clients", best practices "JWT")."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.security.tokens import (
    BASE,
    ISS,
    OMIT,
    Signer,
    auth_app,
    bearer,
    hmac_token,
    jwks_server,
    unsigned_token,
    write_jwks,
)

DISCOVERY = "/cds-services"
HOOK = "/cds-services/nanets-g3-nen-patient-view"
FEEDBACK = "/cds-services/nanets-g3-nen-patient-view/feedback"
SUMMARY = "/cds-services/nanets-g3-nen-patient-view/feedback/summary"
UNAUTHORIZED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "login", "diagnostics": "unauthorized"}],
}


@pytest.fixture(scope="module")
def ec_signer():
    return Signer("EC", "ec-key-1")


@pytest.fixture(scope="module")
def rsa_signer():
    return Signer("RSA", "rsa-key-1")


@pytest.fixture(scope="module")
def app(tmp_path_factory, ec_signer, rsa_signer):
    return auth_app(tmp_path_factory.mktemp("auth"), ec_signer, rsa_signer)


@pytest.fixture()
def client(app):
    return app.test_client()


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED  # the same body whatever failed: no hint to an attacker
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.fixture()
def refused(caplog):
    """401 for the expected reason (the reason is only logged, never sent)."""
    caplog.set_level(logging.INFO, logger="cds_service.security")

    def check(response, because: str):
        assert_unauthorized(response)
        reasons = [r.reason for r in caplog.records if r.getMessage() == "JWT rejected"]
        assert reasons, "no rejection logged"
        assert because.lower() in reasons[-1].lower(), reasons[-1]

    return check


# -- accepted ---------------------------------------------------------------------------------------
def test_valid_es384_token_opens_discovery(client, ec_signer):
    response = client.get(DISCOVERY, headers=bearer(ec_signer.token()))
    assert response.status_code == 200
    assert response.get_json()["services"]


@pytest.mark.parametrize("alg", ["RS384", "PS384"])
def test_valid_rsa_tokens_are_accepted(client, rsa_signer, alg):
    assert client.get(DISCOVERY, headers=bearer(rsa_signer.token(alg=alg))).status_code == 200


def test_aud_may_be_an_array_holding_the_url(client, ec_signer):
    token = ec_signer.token(aud=[BASE + DISCOVERY, "https://other.example.org/x"])
    assert client.get(DISCOVERY, headers=bearer(token)).status_code == 200


def test_expiry_within_clock_skew_is_tolerated(client, ec_signer):
    now = int(time.time())
    token = ec_signer.token(exp=now - 20, iat=now - 200)  # skew is 60 s
    assert client.get(DISCOVERY, headers=bearer(token)).status_code == 200


def test_hook_call_with_valid_token_passes_auth(client, ec_signer):
    # An empty body gets past authentication and fails validation: 400, not 401.
    response = client.post(HOOK, json={}, headers=bearer(ec_signer.token(HOOK)))
    assert response.status_code == 400


# -- refused ----------------------------------------------------------------------------------------
def test_expired_token(client, ec_signer, refused):
    now = int(time.time())
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(exp=now - 120, iat=now - 400))), "ExpiredSignature")


@pytest.mark.parametrize(
    "aud",
    [
        BASE + HOOK,  # another endpoint of this service
        "https://evil.example.org/cds-services",  # another host
        BASE + DISCOVERY + "/",  # not the exact URL
        "http://cds.example.org/cds-services",  # another scheme
    ],
)
def test_wrong_audience(client, ec_signer, aud, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(aud=aud))), "InvalidAudience")


def test_audience_must_name_the_hook_invoked(client, ec_signer, refused):
    token = ec_signer.token("/cds-services/nanets-g3-nen-order-sign")
    refused(client.post(HOOK, json={}, headers=bearer(token)), "InvalidAudience")


def test_untrusted_issuer_even_with_a_trusted_key(client, ec_signer, refused):
    refused(
        client.get(DISCOVERY, headers=bearer(ec_signer.token(iss="https://attacker.example.org"))), "issuer not trusted"
    )


def test_missing_issuer(client, ec_signer, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(iss=OMIT))), "iss missing")


def test_alg_none(client, ec_signer, refused):
    token = unsigned_token({"alg": "none", "typ": "JWT", "kid": ec_signer.kid}, ec_signer.claims())
    refused(client.get(DISCOVERY, headers=bearer(token)), "not allowed")


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
def test_hs256_signed_with_the_public_key_as_secret(client, ec_signer, rsa_signer, secret_form, refused):
    for signer in (ec_signer, rsa_signer):
        secret = signer.public_pem() if secret_form == "pem" else json.dumps(signer.jwk()).encode()
        token = hmac_token({"alg": "HS256", "typ": "JWT", "kid": signer.kid}, signer.claims(), secret)
        refused(client.get(DISCOVERY, headers=bearer(token)), "algorithm HS256 not allowed")


def test_weak_or_other_asymmetric_algorithms(client, rsa_signer, refused):
    for alg in ("RS256", "RS512", "PS256"):
        refused(client.get(DISCOVERY, headers=bearer(rsa_signer.token(alg=alg))), "not allowed")


def test_es256_key_is_refused(tmp_path, refused):
    signer = Signer("EC256", "p256")
    app = auth_app(tmp_path, signer)
    refused(app.test_client().get(DISCOVERY, headers=bearer(signer.token())), "algorithm ES256 not allowed")


def test_key_of_the_wrong_type_for_the_algorithm(client, ec_signer, rsa_signer, refused):
    # RS384 header naming the EC key: the key cannot serve that algorithm.
    token = rsa_signer.token(headers={"kid": ec_signer.kid})
    refused(client.get(DISCOVERY, headers=bearer(token)), "unusable")


def test_signature_by_another_key_under_a_trusted_kid(client, ec_signer, refused):
    impostor = Signer("EC", ec_signer.kid)
    refused(client.get(DISCOVERY, headers=bearer(impostor.token())), "InvalidSignature")


def test_replayed_jti(client, ec_signer, refused):
    token = ec_signer.token()
    assert client.get(DISCOVERY, headers=bearer(token)).status_code == 200
    refused(client.get(DISCOVERY, headers=bearer(token)), "jti replayed")


def test_same_jti_in_a_fresh_token_is_a_replay(client, ec_signer, refused):
    assert client.get(DISCOVERY, headers=bearer(ec_signer.token(jti="fixed-jti-1"))).status_code == 200
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(jti="fixed-jti-1"))), "jti replayed")


@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "aud"])
def test_required_claims(client, ec_signer, claim, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(**{claim: OMIT}))), "MissingRequiredClaim")


@pytest.mark.parametrize("jti", ["", 12345])
def test_jti_must_be_a_non_empty_string(client, ec_signer, jti, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(jti=jti))), "jti")


def test_missing_kid(client, ec_signer, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(headers={"kid": OMIT}))), "kid header missing")


def test_unknown_kid(client, ec_signer, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(headers={"kid": "nobody"}))), "unknown kid")


def test_typ_other_than_jwt(client, ec_signer, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(headers={"typ": "at+jwt"}))), "typ")


def test_nbf_in_the_future(client, ec_signer, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(nbf=int(time.time()) + 600))), "ImmatureSignature")


def test_iat_in_the_future(client, ec_signer, refused):
    now = int(time.time())
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(iat=now + 600, exp=now + 900))), "ImmatureSignature")


def test_exp_too_far_ahead(client, ec_signer, refused):
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(exp=int(time.time()) + 86_400))), "exp too far")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer abc.def.ghi",
        "Bearer eyJhbGciOiJFUzM4NCJ9.%%%.sig",
        "Token abc",
    ],
)
def test_missing_or_garbled_authorization(client, header):
    headers = {} if header is None else {"Authorization": header}
    assert_unauthorized(client.get(DISCOVERY, headers=headers))


def test_token_in_the_wrong_scheme_position(client, ec_signer, refused):
    token = ec_signer.token()
    refused(client.get(DISCOVERY, headers={"Authorization": f"{token} Bearer"}), "no bearer token")


# -- what is and is not protected -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", DISCOVERY), ("POST", HOOK), ("POST", FEEDBACK), ("GET", SUMMARY), ("POST", "/cds-services/no-such")],
)
def test_every_cds_services_endpoint_is_protected(client, method, path):
    assert_unauthorized(client.open(path, method=method, json={}))


def test_feedback_and_summary_accept_a_valid_token(client, ec_signer):
    feedback = {"feedback": [{"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}
    assert client.post(FEEDBACK, json=feedback, headers=bearer(ec_signer.token(FEEDBACK))).status_code == 200
    assert client.get(SUMMARY, headers=bearer(ec_signer.token(SUMMARY))).status_code == 200


def test_unknown_service_with_valid_token_is_404(client, ec_signer):
    path = "/cds-services/no-such"
    assert client.post(path, json={}, headers=bearer(ec_signer.token(path))).status_code == 404


def test_options_preflight_is_not_protected_and_allows_the_headers(client):
    response = client.options(
        HOOK,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")


def test_401_carries_cors_headers_for_browser_clients(client):
    response = client.get(DISCOVERY, headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert_unauthorized(response)
    assert response.headers.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_open(client, path):
    assert client.get(path).status_code == 200


def test_no_challenge_header_outside_cds_services(client):
    assert "WWW-Authenticate" not in client.get("/no-such-page").headers


def test_auth_off_lets_calls_through(tmp_path):
    app = auth_app(tmp_path, CDS_AUTH="off")
    assert app.test_client().get(DISCOVERY).status_code == 200
    assert "nen_auth" not in app.extensions


def test_no_trusted_issuer_refuses_everything(tmp_path, ec_signer, caplog):
    with caplog.at_level(logging.ERROR, logger="cds_service.security"):
        app = auth_app(tmp_path)  # auth on, nothing trusted
    assert any("no issuer is trusted" in r.getMessage() for r in caplog.records)
    assert_unauthorized(app.test_client().get(DISCOVERY, headers=bearer(ec_signer.token())))


# -- logging ------------------------------------------------------------------------------------------
def test_rejection_logged_at_info_with_iss_and_jti_only(client, ec_signer, caplog):
    token = ec_signer.token(aud="https://evil.example.org/cds-services", jti="jti-for-log-test")
    with caplog.at_level(logging.INFO, logger="cds_service"):
        assert_unauthorized(client.get(DISCOVERY, headers=bearer(token)))
    rejected = [r for r in caplog.records if r.getMessage() == "JWT rejected"]
    assert len(rejected) == 1
    record = rejected[0]
    assert record.levelno == logging.INFO
    assert record.iss == ISS and record.jti == "jti-for-log-test"
    assert "InvalidAudience" in record.reason
    for r in caplog.records:
        assert token not in r.getMessage() and token not in json.dumps(r.__dict__, default=str)
        assert token.split(".")[2] not in json.dumps(r.__dict__, default=str)


# -- jku ----------------------------------------------------------------------------------------------
def test_jku_not_allow_listed_is_never_fetched(tmp_path, refused):
    signer = Signer("EC", "jku-key")
    with jwks_server(signer) as server:
        config = tmp_path / "issuers.json"
        config.write_text(json.dumps({ISS: {"jku_allowlist": ["https://keys.example.org/jwks.json"]}}))
        app = auth_app(tmp_path, CDS_ISSUER_CONFIG=str(config))
        token = signer.token(headers={"jku": server.url})
        refused(app.test_client().get(DISCOVERY, headers=bearer(token)), "jku not allow-listed")
        assert server.hits == 0


def test_jku_allow_listed_is_fetched_and_cached(tmp_path, refused):
    signer = Signer("EC", "jku-key")
    with jwks_server(signer) as server:
        config = tmp_path / "issuers.json"
        config.write_text(json.dumps({ISS: {"jku_allowlist": [server.url], "algorithms": ["ES384"]}}))
        app = auth_app(tmp_path, CDS_ISSUER_CONFIG=str(config))
        client = app.test_client()
        for _ in range(3):
            assert client.get(DISCOVERY, headers=bearer(signer.token(headers={"jku": server.url}))).status_code == 200
        assert server.hits == 1  # cached for CDS_JWKS_CACHE_SECONDS
        # A token without jku from this issuer has no pinned key to check against.
        refused(client.get(DISCOVERY, headers=bearer(signer.token())), "unknown kid")


def test_global_jku_allowlist(tmp_path):
    signer = Signer("EC", "jku-key")
    with jwks_server(signer) as server:
        app = auth_app(tmp_path, CDS_TRUSTED_ISSUERS=ISS, CDS_JKU_ALLOWLIST=server.url)
        token = signer.token(headers={"jku": server.url})
        assert app.test_client().get(DISCOVERY, headers=bearer(token)).status_code == 200


def test_untrusted_jku_falls_back_to_pinned_keys_without_fetching(tmp_path, ec_signer, refused):
    with jwks_server(Signer("EC", ec_signer.kid)) as attacker:
        app = auth_app(tmp_path, ec_signer)
        client = app.test_client()
        # Signed by the pinned key: accepted, and the unlisted URL is never contacted.
        assert client.get(DISCOVERY, headers=bearer(ec_signer.token(headers={"jku": attacker.url}))).status_code == 200
        # Signed by the attacker's key published at the unlisted jku: refused.
        forged = Signer("EC", ec_signer.kid)
        attacker.set_keys(forged)
        refused(client.get(DISCOVERY, headers=bearer(forged.token(headers={"jku": attacker.url}))), "InvalidSignature")
        assert attacker.hits == 0


def test_jwks_url_refetched_once_for_an_unknown_kid(tmp_path):
    old, new = Signer("EC", "old-key"), Signer("EC", "new-key")
    with jwks_server(old) as server:
        app = auth_app(tmp_path, CDS_TRUSTED_ISSUERS=ISS, CDS_JWKS_URL=server.url, CDS_JWKS_REFETCH_MIN_SECONDS=0)
        client = app.test_client()
        assert client.get(DISCOVERY, headers=bearer(old.token())).status_code == 200
        server.set_keys(old, new)  # the client rotates its keys
        assert client.get(DISCOVERY, headers=bearer(new.token())).status_code == 200
        assert server.hits == 2


def test_unknown_kid_refetch_is_rate_limited(tmp_path, refused):
    known = Signer("EC", "known-key")
    with jwks_server(known) as server:
        app = auth_app(tmp_path, CDS_TRUSTED_ISSUERS=ISS, CDS_JWKS_URL=server.url, CDS_JWKS_REFETCH_MIN_SECONDS=3600)
        client = app.test_client()
        assert client.get(DISCOVERY, headers=bearer(known.token())).status_code == 200
        for i in range(5):
            refused(client.get(DISCOVERY, headers=bearer(known.token(headers={"kid": f"random-{i}"}))), "unknown kid")
        assert server.hits == 1


def test_jwks_url_down_refuses_without_error(tmp_path, ec_signer, refused):
    app = auth_app(tmp_path, CDS_TRUSTED_ISSUERS=ISS, CDS_JWKS_URL="http://127.0.0.1:9/jwks.json")
    refused(app.test_client().get(DISCOVERY, headers=bearer(ec_signer.token())), "unknown kid")


def test_tenant_allow_list(tmp_path, ec_signer, refused):
    jwks = write_jwks(tmp_path / "pinned.json", ec_signer)
    config = tmp_path / "issuers.json"
    config.write_text(json.dumps({ISS: {"jwks_file": jwks.name, "tenants": ["hospital-a"]}}))
    client = auth_app(tmp_path, CDS_ISSUER_CONFIG=str(config)).test_client()
    assert client.get(DISCOVERY, headers=bearer(ec_signer.token(tenant="hospital-a"))).status_code == 200
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token(tenant="hospital-b"))), "tenant not trusted")
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token())), "tenant not trusted")


def test_issuer_algorithm_restriction(tmp_path, rsa_signer, refused):
    jwks = write_jwks(tmp_path / "pinned.json", rsa_signer)
    config = tmp_path / "issuers.json"
    config.write_text(json.dumps({ISS: {"jwks_file": str(jwks), "algorithms": ["PS384"]}}))
    client = auth_app(tmp_path, CDS_ISSUER_CONFIG=str(config)).test_client()
    assert client.get(DISCOVERY, headers=bearer(rsa_signer.token(alg="PS384"))).status_code == 200
    refused(client.get(DISCOVERY, headers=bearer(rsa_signer.token(alg="RS384"))), "not allowed for this issuer")


def test_public_base_url_unset_uses_the_request_url(tmp_path, ec_signer, refused):
    client = auth_app(tmp_path, ec_signer, CDS_PUBLIC_BASE_URL="").test_client()
    token = ec_signer.token(aud="http://localhost/cds-services")
    assert client.get(DISCOVERY, headers=bearer(token)).status_code == 200
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token())), "InvalidAudience")  # aud names BASE


def test_replay_cache_down_refuses_and_is_not_ready(tmp_path, ec_signer, refused):
    app = auth_app(tmp_path, ec_signer, REDIS_URL="redis://127.0.0.1:9/0")
    client = app.test_client()
    refused(client.get(DISCOVERY, headers=bearer(ec_signer.token())), "replay cache unavailable")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["replay_cache"].startswith("failed")
