"""`POST /v1/score`: scores only, no state. `GET /v1/model`: what is scoring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from triage.api.deps import AnyKey, ServiceDep
from triage.api.schemas import ErrorOut, ModelOut, ScoreRequest, ScoreResponse
from triage.errors import InputError, TriageError
from triage.heads import describe

router = APIRouter(prefix="/v1", tags=["scoring"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut}})


@router.post("/score", response_model=ScoreResponse,
             responses={413: {"model": ErrorOut}, 503: {"model": ErrorOut}})
async def score(body: ScoreRequest, key: AnyKey, service: ServiceDep,
                explain: Annotated[bool, Query(description="Add the phrases that moved "
                                               "each head (slower).")] = False
                ) -> dict[str, Any]:
    """Score one message (`text`) or a batch (`texts`, up to TRIAGE_MAX_BATCH)."""
    texts = body.items()
    limit = service.settings.max_batch
    if len(texts) > limit:
        raise InputError(f"batch of {len(texts)} messages; the limit is {limit} "
                         "(TRIAGE_MAX_BATCH). Split it into smaller requests",
                         detail={"size": len(texts), "limit": limit})
    for i, text in enumerate(texts):
        _check(service.scorer, text, i if body.texts is not None else None)
    top = (service.settings.explain_top or 3) if explain else 0
    # the language gate, tokenizer and model run on a worker thread, never on the event loop
    results = await run_in_threadpool(service.scorer.score, texts, explain_top=top)
    for result in results:
        service.telemetry.observe_score(result)
    return {"model_version": service.scorer.version, "results": [r.as_dict() for r in results]}


@router.get("/model", response_model=ModelOut)
def model(key: AnyKey, service: ServiceDep) -> dict[str, Any]:
    """The model's manifest and the priority policy in use."""
    manifest = getattr(getattr(service.scorer, "model", None), "manifest", None)
    raw = dict(manifest.raw) if manifest is not None else {"version": service.scorer.version}
    raw.setdefault("heads", list(service.scorer.heads))
    raw.setdefault("head_descriptions", {h: describe(h) for h in service.scorer.heads})
    if service.model_error:
        raw["error"] = service.model_error
    return {"model_version": service.scorer.version, "manifest": raw,
            "policy": {"version": service.policy.version, "config": service.policy.as_dict()}}


def _check(scorer: Any, text: str, index: int | None) -> None:
    try:
        scorer.check(text)
    except TriageError as exc:
        if index is None:
            raise
        raise type(exc)(f"texts[{index}]: {exc.message}", detail={"index": index}) from exc
