"""Everything under deploy/ that can be checked without a Docker engine or a cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BIN = Path(sys.executable).parent
K8S_MANIFESTS = ["namespace.yaml", "config.yaml", "migrate-job.yaml", "worker.yaml", "api.yaml"]


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert len(files) >= 7
    for path in files:
        assert _docs(path), path


def test_compose_file_matches_the_compose_spec():
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "docker-compose.yml")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    compose = _docs(DEPLOY / "docker-compose.yml")[0]
    assert compose["services"]["temporal"]["environment"]["DB"] == "postgres12"  # Temporal on Postgres
    assert compose["services"]["worker"]["deploy"]["replicas"] >= 2
    assert {"temporal-ui", "api", "migrate", "postgresql"} <= set(compose["services"])


def test_kubernetes_manifests_validate_strictly():
    result = subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "--quiet", *(str(DEPLOY / "k8s" / m) for m in K8S_MANIFESTS)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workers_have_probes_resources_autoscaling_and_drain_time():
    docs = {(d["kind"], d["metadata"]["name"]): d for m in K8S_MANIFESTS for d in _docs(DEPLOY / "k8s" / m)}
    worker = docs[("Deployment", "agentrt-worker")]["spec"]["template"]["spec"]
    container = worker["containers"][0]
    assert container["livenessProbe"]["exec"]["command"][0] == "agentrt-probe"
    assert container["resources"]["requests"]["cpu"]
    assert worker["terminationGracePeriodSeconds"] > 30  # longer than the worker's graceful shutdown
    assert docs[("HorizontalPodAutoscaler", "agentrt-worker")]["spec"]["minReplicas"] >= 2
    assert ("Secret", "agentrt-secrets") in docs
    api = docs[("Deployment", "agentrt-api")]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_image_runs_as_a_non_root_user_with_one_entrypoint():
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")):]
    user = [line for line in final_stage if line.startswith("USER ")]
    assert user and not user[-1].split()[1].startswith(("root", "0"))
    assert 'ENTRYPOINT ["agentrt"]' in final_stage


def test_probe_reports_a_stale_or_missing_heartbeat(tmp_path):
    from runtime.probe import main

    beat = tmp_path / "alive"
    assert main([str(beat), "60"]) == 1
    beat.touch()
    assert main([str(beat), "60"]) == 0
    import os
    os.utime(beat, (0, 0))
    assert main([str(beat), "60"]) == 1
