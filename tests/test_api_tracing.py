"""OpenTelemetry tracing (api/tracing.py): off by default; with an exporter, each request is
a span with its SQL as child spans. Skips when the `otel` extra is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.api.tracing import wanted
from triage.keys import create_key
from triage.scoring import Scorer
from triage.settings import Settings


@pytest.mark.parametrize(("env", "on"), [
    ({}, False),
    ({"OTEL_SERVICE_NAME": "triage"}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
])
def test_tracing_wanted_only_when_configured(env: dict[str, str], on: bool) -> None:
    assert wanted(env) is on


def test_tracing_off_by_default(tmp_path: Path, keyword_scorer: Scorer,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(Settings(home=tmp_path, sweep_seconds=0), scorer=keyword_scorer)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert "traceparent" not in client.get("/healthz").headers
    assert not any("OpenTelemetry" in type(m.cls).__name__ or "OpenTelemetry" in str(m.cls)
                   for m in app.user_middleware)


@pytest.fixture
def traced(tmp_path: Path, keyword_scorer: Scorer) -> Iterator[tuple[TestClient, object]]:
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    pytest.importorskip("opentelemetry.instrumentation.fastapi",
                        reason="the otel extra is not installed")
    pytest.importorskip("opentelemetry.instrumentation.sqlalchemy",
                        reason="the otel extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    app = create_app(Settings(home=tmp_path, sweep_seconds=0), scorer=keyword_scorer,
                     span_exporter=exporter)
    with TestClient(app) as client:
        yield client, exporter


def test_tracing_records_request_and_sql_spans(traced: tuple[TestClient, object]) -> None:
    client, exporter = traced
    key = create_key(client.app.state.service.db, "alice", "agent")[0]  # type: ignore[attr-defined]
    exporter.clear()  # type: ignore[attr-defined]
    r = client.post("/v1/tickets", headers={"Authorization": f"Bearer {key}"},
                    json={"text": "Where is my parcel? It was due on Monday."})
    assert r.status_code == 201
    spans = exporter.get_finished_spans()  # type: ignore[attr-defined]
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert [s.name for s in server] == ["POST /v1/tickets"]
    assert server[0].attributes["http.route"] == "/v1/tickets"
    sql = [s for s in spans if "db.system" in (s.attributes or {})
           or "db.system.name" in (s.attributes or {})]
    assert sql, [s.name for s in spans]
    trace_id = server[0].context.trace_id
    assert all(s.context.trace_id == trace_id for s in sql)
    exporter.clear()  # type: ignore[attr-defined]
    client.get("/healthz")
    assert exporter.get_finished_spans() == ()  # type: ignore[attr-defined]
