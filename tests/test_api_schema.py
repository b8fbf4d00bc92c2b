"""The API against its own OpenAPI schema: generated requests, valid and invalid, never get a
5xx, and every answer (status, content type, body) is one the schema documents; invalid
input is refused. Schemathesis generates the requests (a property test over the schema)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api import settings_for, sqlite_url

from triage.api import create_app
from triage.keys import create_key
from triage.scoring import Scorer

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def invalid_body_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """A body the schema calls invalid gets a 4xx. (Only cases whose sole invalid part is the
    body: unknown query parameters are ignored on purpose, and the key is always sent.)"""
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.BODY):
        return None
    if any(meta.is_negative_at(loc) for loc in meta.components if loc != ParameterLocation.BODY):
        return None
    return negative_data_rejection(ctx, response, case)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The app (lifespan running) with one admin key, as schemathesis will call it."""
    from conftest import KeywordModel

    tmp = tmp_path_factory.mktemp("schema")
    app = create_app(settings_for(tmp, sqlite_url(tmp)), scorer=Scorer(KeywordModel()))
    with TestClient(app):
        key = create_key(app.state.service.db, "fuzz", "admin")[0]
        yield app, key


def operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_schema_every_answer_is_documented_and_never_a_5xx(
        served: tuple[Any, str], mode: GenerationMode) -> None:
    app, key = served
    failures: list[str] = []
    checks = CHECKS + ([invalid_body_refused] if mode == GenerationMode.NEGATIVE else [])
    for op in operations(app):
        if op.method.upper() == "DELETE":  # revoking the test's own key ends the run early
            continue

        @given(case=op.as_strategy(generation_mode=mode))
        @examples(max_examples=30, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=checks)

        try:
            run()
        except Unsatisfiable:  # nothing in this operation can be made invalid
            continue
        except Exception as exc:  # noqa: BLE001  # every operation's failure, then fail once
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)
