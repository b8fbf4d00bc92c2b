"""OpenTelemetry tracing, optional (`pip install 'triage[otel]'`), off unless configured.

It is on when the standard variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set, or `OTEL_TRACES_EXPORTER=otlp`; and
`OTEL_SDK_DISABLED` is not `true`. Then every request is a span (FastAPI instrumentation)
with the SQL it ran as child spans (SQLAlchemy instrumentation), exported over OTLP/HTTP;
the exporter and the SDK read the rest (`OTEL_SERVICE_NAME`, headers, sampler) themselves.
Tests and embedders pass an exporter of their own to `Tracing(exporter=...)`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("triage.api")


def wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the OTEL_* variables ask for traces."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = {e.strip() for e in env.get("OTEL_TRACES_EXPORTER", "").lower().split(",")}
    if "none" in exporters:
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or "otlp" in exporters)


class Tracing:
    """The tracing of one app: a tracer provider, the app and its database engine traced."""

    def __init__(self, exporter: Any = None) -> None:
        self.provider: Any = None
        self.exporter = exporter
        self._engine: Any = None

    def install(self, app: Any) -> bool:
        """Trace `app`'s requests if configured (or given an exporter); True when on."""
        if self.exporter is None and not wanted():
            return False
        try:
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
            self.provider = self._provider()
        except ImportError as exc:
            log.warning("OTEL_* asks for traces but the otel extra is not installed (%s); "
                        "pip install 'triage[otel]'. Running without traces.", exc.name)
            return False
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider,
                                           excluded_urls="/healthz,/readyz,/metrics")
        return True

    def trace_engine(self, engine: Any) -> None:
        """Add the SQL statements of `engine` as child spans (when tracing is on)."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # it declares sqlalchemy < 2.1 but its engine events work on 2.1 (tested here)
        SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=self.provider,
                                            skip_dep_check=True)
        self._engine = engine

    def close(self) -> None:
        """Stop tracing the engine and flush what is left to the exporter."""
        if self.provider is None:
            return
        if self._engine is not None:
            from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

            SQLAlchemyInstrumentor().uninstrument()
            self._engine = None
        self.provider.shutdown()

    def _provider(self) -> Any:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME",
                                                                    "triage")})
        provider = TracerProvider(resource=resource)
        if self.exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return provider
