"""The Helm chart (deploy/helm/triage): values every template uses exist, the chart's own
rules hold, and, where the `helm` binary is on PATH, `helm lint` and `helm template` pass
and render the probes, the migration hook, the Secret and the ServiceMonitor.

`helm` cannot be installed on this project's machines (no Debian package, no PyPI package
that ships the binary), so those checks skip here with that reason and run wherever helm is.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

CHART = Path(__file__).resolve().parents[1] / "deploy" / "helm" / "triage"
HELM = shutil.which("helm")
needs_helm = pytest.mark.skipif(HELM is None, reason=(
    "helm is not installed and cannot be here: Debian has no helm package (apt-cache policy "
    "helm: none) and no PyPI package ships the binary; install helm to run this check"))
SET = ["--set", "database.url=postgresql+psycopg://triage:pw@pg:5432/triage"]


def _values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def test_deploy_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "triage"
    import tomllib

    project = tomllib.loads((CHART.parents[2] / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]


def test_deploy_every_value_a_template_reads_exists() -> None:
    values = _values()
    used = set()
    for template in (CHART / "templates").iterdir():
        used |= set(re.findall(r"\.Values\.([A-Za-z0-9_.]+)", template.read_text()))
    assert used
    for path in sorted(used):
        node: Any = values
        for part in path.split("."):
            assert isinstance(node, dict) and part in node, f".Values.{path} is not in values.yaml"
            node = node[part]


def test_deploy_one_worker_per_pod_by_default() -> None:
    assert _values()["workers"] == 1
    text = (CHART / "templates" / "deployment.yaml").read_text()
    assert 'TRIAGE_WORKERS\n              value: "1"' in text and "fail" in text


def _helm(*args: str) -> subprocess.CompletedProcess[str]:
    assert HELM is not None
    return subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120,
                          check=False)


@needs_helm
def test_deploy_helm_lint() -> None:
    done = _helm("lint", str(CHART), *SET)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_helm
def test_deploy_helm_template_renders_what_operators_need() -> None:
    done = _helm("template", "tr", str(CHART), *SET,
                 "--set", "metrics.serviceMonitor.enabled=true")
    assert done.returncode == 0, done.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(done.stdout) if d}
    assert {"Deployment", "Service", "Secret", "Job", "ServiceMonitor"} <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert pod["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in pod["env"]}
    assert env["TRIAGE_WORKERS"]["value"] == "1"
    assert env["TRIAGE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-url"
    job = docs["Job"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["triage", "migrate"]
    assert docs["ServiceMonitor"]["spec"]["endpoints"][0]["path"] == "/metrics"


@needs_helm
def test_deploy_helm_refuses_what_cannot_work() -> None:
    assert _helm("template", "tr", str(CHART)).returncode != 0  # no database
    assert _helm("template", "tr", str(CHART), *SET, "--set", "workers=2").returncode != 0
    assert _helm("template", "tr", str(CHART), *SET,
                 "--set", "model.source=volume").returncode != 0


# --- the Grafana dashboard ----------------------------------------------------------------

DASHBOARD = CHART.parents[2] / "deploy" / "grafana" / "triage.json"
METRIC = re.compile(r"\b((?:triage|process|python)_[a-z_]+)\b")


def _queried() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets") or []]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"]
              if isinstance(v.get("query"), dict)]
    return {m for e in exprs for m in METRIC.findall(e)}


def test_deploy_dashboard_covers_what_operators_watch() -> None:
    wanted = {"triage_queue_depth", "triage_queue_oldest_wait_seconds",
              "triage_queue_sla_breached", "triage_lease_expiries_total",
              "triage_unscorable_messages_total", "triage_score_bucket",
              "triage_request_duration_seconds_bucket",
              "triage_request_duration_seconds_count", "triage_requests_rejected_total"}
    assert wanted <= _queried()


def test_deploy_dashboard_queries_only_exported_metrics(tmp_path: Path,
                                                         keyword_scorer: Any) -> None:
    from fastapi.testclient import TestClient

    from triage.api import create_app
    from triage.keys import create_key
    from triage.settings import Settings

    app = create_app(Settings(home=tmp_path, sweep_seconds=0, max_body_bytes=4000),
                     scorer=keyword_scorer)
    with TestClient(app) as client:
        key = create_key(client.app.state.service.db, "alice", "agent")[0]  # type: ignore[attr-defined]
        auth = {"Authorization": f"Bearer {key}"}
        assert client.post("/v1/tickets", headers=auth, json={
            "text": "I am furious, the shop is down!", "channel": "email"}).status_code == 201
        no_words = client.post("/v1/score", headers=auth, json={"text": "!!! ??? ..."})
        assert no_words.json()["results"][0]["scorable"] is False
        assert client.post("/v1/score", headers=auth, content=b"x" * 5000).status_code == 413
        text = client.get("/metrics").text
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines()
                if line and not line.startswith("#")}
    missing = sorted(_queried() - exported)
    assert missing == [], f"the dashboard queries metrics the app does not export: {missing}"
