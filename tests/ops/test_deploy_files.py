"""Deployment files parse and carry what production needs (Docker cannot run here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from cds_service.security.keys import KeySources
from cds_service.security.trust import build_policies
from cds_service.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
K8S = DOCKER / "k8s"


def k8s_objects() -> dict[str, dict]:
    objects: dict[str, dict] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if (
                doc
                and "kind" in doc
                and doc.get("apiVersion", "").startswith(("v1", "apps/", "autoscaling/", "policy/"))
            ):
                objects[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return objects


# -- Dockerfile -----------------------------------------------------------------------------------------
def dockerfile() -> list[str]:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def instruction(name: str) -> list[str]:
    return [line[len(name) :].strip() for line in dockerfile() if line.split()[0] == name]


def test_dockerfile_base_user_install_and_command():
    assert instruction("FROM") == ["python:3.11-slim"]
    assert any("pip install ." in run for run in instruction("RUN"))
    [user] = instruction("USER")
    assert user.split(":")[0] not in ("root", "0")
    [cmd] = instruction("CMD")
    argv = json.loads(cmd)
    assert argv[0] == "gunicorn" and argv[-1] == "cds_service.wsgi:app"
    assert argv[argv.index("--access-logfile") + 1] == "/dev/null"  # no access log: paths are not logged raw
    # The user is switched after the install and before the command.
    order = [line.split()[0] for line in dockerfile()]
    assert order.index("USER") > max(i for i, op in enumerate(order) if op == "RUN")


def test_dockerfile_healthcheck_on_healthz():
    [check] = instruction("HEALTHCHECK")
    assert "/healthz" in check
    assert re.search(r"--interval=\d+s", check)


def test_dockerignore_keeps_secrets_and_venv_out():
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "docker/.env"):
        assert entry in ignored


# -- compose ---------------------------------------------------------------------------------------------
def test_compose_service_postgres_redis():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) >= {"cds", "postgres", "redis"}
    cds = services["cds"]
    assert cds["build"]["dockerfile"] == "docker/Dockerfile"
    env = cds["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["CDS_AUTH"] == "on"
    assert set(cds["depends_on"]) == {"postgres", "redis"}
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
        assert cds["depends_on"][name]["condition"] == "service_healthy"
    assert "noeviction" in services["redis"]["command"]
    # Secrets come from the environment, never written in the file.
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert env["EXPLAIN_SECRET"].startswith("${EXPLAIN_SECRET:?")
    # The mounted trust file is the sandbox configuration shipped beside it.
    mount = next(v for v in cds["volumes"] if "sandbox-trust.json" in v)
    assert mount.split(":")[1] == env["CDS_ISSUER_CONFIG"]


# -- Kubernetes ------------------------------------------------------------------------------------------
def test_k8s_objects_present():
    assert set(k8s_objects()) >= {
        "Deployment/nen-cds",
        "Service/nen-cds",
        "HorizontalPodAutoscaler/nen-cds",
        "ConfigMap/nen-cds-config",
        "ConfigMap/nen-cds-trust",
        "Secret/nen-cds-secrets",
    }


def test_k8s_deployment_probes_resources_and_configuration():
    objects = k8s_objects()
    deployment = objects["Deployment/nen-cds"]
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    port = container["ports"][0]
    assert port["containerPort"] == 8080

    def probe_path(name: str) -> str:
        probe = container[name]["httpGet"]
        assert probe["port"] in (port["name"], port["containerPort"])
        return probe["path"]

    assert probe_path("readinessProbe") == "/readyz"
    assert probe_path("livenessProbe") == "/healthz"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    sources = {next(iter(ref)): next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert sources == {"configMapRef": "nen-cds-config", "secretRef": "nen-cds-secrets"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # The trust file named by the ConfigMap is mounted from the trust ConfigMap.
    config = objects["ConfigMap/nen-cds-config"]["data"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "trust")
    assert config["CDS_ISSUER_CONFIG"].startswith(mount["mountPath"] + "/")
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "trust")
    trust_name = volume["configMap"]["name"]
    file_name = config["CDS_ISSUER_CONFIG"].rsplit("/", 1)[1]
    trust = json.loads(objects[f"ConfigMap/{trust_name}"]["data"][file_name])
    assert all(
        set(entry) <= {"jwks_file", "jwks_url", "jku_allowlist", "jku", "algorithms", "tenants"}
        for entry in trust.values()
    )
    assert config["CDS_AUTH"] == "on"
    assert config["CDS_PUBLIC_BASE_URL"].startswith("https://")


def test_k8s_secret_holds_the_secrets_and_configmap_does_not():
    objects = k8s_objects()
    secret = objects["Secret/nen-cds-secrets"]["stringData"]
    assert {"DATABASE_URL", "REDIS_URL", "EXPLAIN_SECRET"} <= set(secret)
    assert secret["DATABASE_URL"].startswith("postgresql+psycopg://")
    config = objects["ConfigMap/nen-cds-config"]["data"]
    assert not {"DATABASE_URL", "REDIS_URL", "EXPLAIN_SECRET"} & set(config)
    # Every key is a Settings field (a typo would be silently ignored by the service).
    fields = {name.upper() for name in Settings.__dataclass_fields__}
    assert set(config) <= fields and set(secret) <= fields


def test_k8s_service_and_hpa_point_at_the_deployment():
    objects = k8s_objects()
    deployment = objects["Deployment/nen-cds"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = objects["Service/nen-cds"]["spec"]
    assert service["selector"].items() <= labels.items()
    assert service["ports"][0]["targetPort"] in ("http", 8080)
    hpa = objects["HorizontalPodAutoscaler/nen-cds"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"]


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


# -- sandbox trust configuration -------------------------------------------------------------------------
def test_sandbox_trust_configuration_loads():
    settings = Settings.load({"CDS_ISSUER_CONFIG": str(DOCKER / "sandbox-trust.json")})
    policies = build_policies(settings, KeySources(ttl=60, min_refetch=30, timeout=1))
    sandbox = policies["https://sandbox.cds-hooks.org"]
    assert sandbox.algorithms == {"ES384"}
    assert sandbox.jku_allowlist == {"https://sandbox.cds-hooks.org/.well-known/jwks.json"}
    assert sandbox.pinned == ()


def test_sandbox_with_pinned_jwks_verifies_without_fetching(tmp_path):
    """The README's pinning recipe: a jwks_file, jku no longer allow-listed, tokens still carrying jku."""
    from tests.security.tokens import Signer, auth_app, bearer, write_jwks

    sandbox = Signer("EC", "sandbox-key", iss="https://sandbox.cds-hooks.org")
    write_jwks(tmp_path / "sandbox-jwks.json", sandbox)
    trust = json.loads((DOCKER / "sandbox-trust.json").read_text(encoding="utf-8"))
    entry = trust["https://sandbox.cds-hooks.org"]
    entry.pop("jku_allowlist")
    entry["jwks_file"] = "sandbox-jwks.json"
    (tmp_path / "issuers.json").write_text(json.dumps(trust), encoding="utf-8")
    app = auth_app(tmp_path, CDS_ISSUER_CONFIG=str(tmp_path / "issuers.json"), CDS_JWKS_TIMEOUT_SECONDS=0.1)
    token = sandbox.token(headers={"jku": "https://sandbox.cds-hooks.org/.well-known/jwks.json"})
    assert app.test_client().get("/cds-services", headers=bearer(token)).status_code == 200
    sources = app.extensions["nen_auth"].policies["https://sandbox.cds-hooks.org"]._sources
    assert sources._urls == {}  # no URL source was ever created, let alone fetched


@pytest.mark.parametrize("name", ["README.md", "env.example"])
def test_docs_present(name):
    assert (DOCKER / name).read_text(encoding="utf-8").strip()
