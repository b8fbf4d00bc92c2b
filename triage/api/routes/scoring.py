"""`POST /v1/score`: scores only, no state. `GET /v1/model`: what is scoring.

One request's work is bounded: at most TRIAGE_MAX_BATCH messages and TRIAGE_MAX_REQUEST_CHARS
characters in all (the model's windows grow with the characters), and explanations (about
33 model runs per window) for at most TRIAGE_MAX_EXPLAIN_CHARS characters. A batch is scored
in slices; when the client has gone away, the remaining slices are not scored.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from triage.api.deps import AnyKey, ScoringKey, ServiceDep
from triage.api.schemas import ErrorOut, ModelOut, ScoreRequest, ScoreResponse
from triage.errors import InputError, TextTooLong, TriageError
from triage.heads import describe
from triage.scoring import Score
from triage.settings import Settings

router = APIRouter(prefix="/v1", tags=["scoring"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})


_ABSOLUTE = re.compile(r"(?<![\w.:/~\\])(?:~?/|[A-Za-z]:[\\/])[^\s'\"(),;]*")


class ClientGone(Exception):
    """The client disconnected; the rest of its batch is not worth scoring."""


@router.post("/score", response_model=ScoreResponse,
             responses={413: {"model": ErrorOut}, 429: {"model": ErrorOut},
                        503: {"model": ErrorOut}})
async def score(body: ScoreRequest, key: ScoringKey, service: ServiceDep, request: Request,
                explain: Annotated[bool, Query(description="Add the phrases that moved "
                                               "each head (slower; at most "
                                               "TRIAGE_MAX_EXPLAIN_CHARS characters).")] = False
                ) -> dict[str, Any]:
    """Score one message (`text`) or a batch (`texts`, up to TRIAGE_MAX_BATCH)."""
    texts = body.items()
    check_work(texts, service.settings, explain=explain)
    for i, text in enumerate(texts):
        _check(service.scorer, text, i if body.texts is not None else None)
    top = (service.settings.explain_top or 3) if explain else 0
    step = max(1, service.settings.batch_size)
    try:
        results = await score_in_slices(service.scorer, texts, top, step,
                                        request.is_disconnected)
    except ClientGone:
        service.telemetry.rejected.labels(reason="client_gone").inc()
        return {"model_version": service.scorer.version, "results": []}
    for result in results:
        service.telemetry.observe_score(result)
    return {"model_version": service.scorer.version, "results": [r.as_dict() for r in results]}


async def score_in_slices(scorer: Any, texts: Sequence[str], explain_top: int, step: int,
                          gone: Callable[[], Awaitable[bool]]) -> list[Score]:
    """Score `texts` `step` at a time on a worker thread (never on the event loop),
    checking between slices whether the client is still there (ClientGone if not)."""
    results: list[Score] = []
    for start in range(0, len(texts), step):
        if start and await gone():
            raise ClientGone
        results += await run_in_threadpool(scorer.score, texts[start:start + step],
                                           explain_top=explain_top)
    return results


def check_work(texts: Sequence[str], settings: Settings, *, explain: bool) -> None:
    """Refuse a request whose work is over the limits (422 for counts, 413 for size)."""
    limit = settings.max_batch
    if len(texts) > limit:
        raise InputError(f"batch of {len(texts)} messages; the limit is {limit} "
                         "(TRIAGE_MAX_BATCH). Split it into smaller requests",
                         detail={"size": len(texts), "limit": limit})
    chars = sum(len(t) for t in texts if isinstance(t, str))
    if chars > settings.max_request_chars:
        raise RequestTooLarge(f"the messages hold {chars} characters in all; the limit per "
                              f"request is {settings.max_request_chars} "
                              "(TRIAGE_MAX_REQUEST_CHARS). Split the batch",
                              detail={"chars": chars, "limit": settings.max_request_chars})
    if explain and chars > settings.max_explain_chars:
        raise InputError(f"explain=true for {chars} characters; explanations are limited to "
                         f"{settings.max_explain_chars} characters per request "
                         "(TRIAGE_MAX_EXPLAIN_CHARS). Explain fewer or shorter messages",
                         detail={"chars": chars, "limit": settings.max_explain_chars})


class RequestTooLarge(TextTooLong):
    """More text in one request than TRIAGE_MAX_REQUEST_CHARS (413)."""

    status_code = 413


@router.get("/model", response_model=ModelOut)
def model(key: AnyKey, service: ServiceDep) -> dict[str, Any]:
    """The model's manifest and the priority policy in use (file paths shown by name only)."""
    manifest = getattr(getattr(service.scorer, "model", None), "manifest", None)
    raw = dict(manifest.raw) if manifest is not None else {"version": service.scorer.version}
    raw.setdefault("heads", list(service.scorer.heads))
    raw.setdefault("head_descriptions", {h: describe(h) for h in service.scorer.heads})
    if service.model_error:
        raw["error"] = service.model_error
    return {"model_version": service.scorer.version, "manifest": without_paths(raw),
            "policy": {"version": service.policy.version, "config": service.policy.as_dict()},
            "ticket_url_templates": dict(service.settings.ticket_url_templates)}


def without_paths(value: Any) -> Any:
    """`value` with every absolute file path replaced by its last part (no server layout
    for callers)."""
    if isinstance(value, dict):
        return {k: without_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_paths(v) for v in value]
    if isinstance(value, str):
        return _ABSOLUTE.sub(lambda m: PureWindowsPath(m.group()).name or "/", value)
    return value


def _check(scorer: Any, text: str, index: int | None) -> None:
    try:
        scorer.check(text)
    except TriageError as exc:
        if index is None:
            raise
        raise type(exc)(f"texts[{index}]: {exc.message}", detail={"index": index}) from exc
