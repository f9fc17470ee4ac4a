"""The deployment examples in deploy/ are valid YAML and show the lease at work (a
rolling update that starts the new instance first, a standby that counts as ready)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import Config

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_the_kubernetes_deployment_rolls_with_a_standby() -> None:
    documents = list(yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text("utf-8")))
    by_kind = {document["kind"]: document for document in documents}
    deployment = by_kind["Deployment"]
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= 10
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # The bot's config in the ConfigMap is a valid config (with a password from outside).
    text = by_kind["ConfigMap"]["data"]["config.toml"]
    data = tomllib.loads(text)
    data["matrix"]["password"] = "from the Secret"
    config = Config.model_validate(data)
    assert config.database_url.startswith("postgresql")
    assert config.health.port == container["ports"][0]["containerPort"]
    assert by_kind["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_compose_file_runs_two_instances_on_one_volume() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    bots = [compose["services"][name] for name in ("bot-a", "bot-b")]
    assert bots[0] == bots[1], "the same service twice: one active, one standby"
    assert bots[0]["stop_signal"] == "SIGTERM"
    assert bots[0]["volumes"] == ["/srv/zt:/data"]
    assert "zt-bot" in bots[0]["healthcheck"]["test"]
