"""Cases: intake, messages, reading, heartbeat, release, resolve, escalate, feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from triage.api.deps import AgentKey, CasesDep, ScoringAgentKey
from triage.api.schemas import (
    CaseDetailOut,
    CaseOut,
    ErrorOut,
    EscalateIn,
    FeedbackIn,
    FeedbackOut,
    IntakeOut,
    MessageIn,
    ResolveIn,
    TicketIn,
)
from triage.cases import CustomerFacts, Labels, NewTicket
from triage.errors import InputError
from triage.keys import Principal

router = APIRouter(prefix="/v1/tickets", tags=["tickets"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                              404: {"model": ErrorOut}, 409: {"model": ErrorOut},
                              422: {"model": ErrorOut}, 429: {"model": ErrorOut}})
Ref = Annotated[str, Path(max_length=64, description="Case number (CS-2026-000123) or id.")]


@router.post("", response_model=IntakeOut, status_code=201,
             responses={200: {"model": IntakeOut, "description": "The case already existed "
                              "(same source and external_id)."}, 413: {"model": ErrorOut}})
def intake(body: TicketIn, key: ScoringAgentKey, cases: CasesDep,
           response: Response) -> dict[str, Any]:
    """Open a case from a customer message; a known `external_id` returns its case."""
    customer = CustomerFacts(**body.customer.model_dump()) if body.customer else None
    new = NewTicket(text=body.text, channel=body.channel, subject=body.subject,
                    source=body.source, external_id=body.external_id,
                    created_at=body.created_at, customer=customer)
    out = cases.intake(new, key.name)
    response.status_code = 201 if out.created else 200
    response.headers["Location"] = f"/v1/tickets/{out.case['case_number']}"
    return {**out.case, "created": out.created, "appended": out.appended}


@router.post("/{ref}/messages", response_model=CaseOut, status_code=201,
             responses={413: {"model": ErrorOut}})
def add_message(ref: Ref, body: MessageIn, key: ScoringAgentKey,
                cases: CasesDep) -> dict[str, Any]:
    """A customer message (re-scores the case) or an agent reply (waits on the customer).

    An agent reply is written by the key's holder, on a case nobody else holds (unless
    the key is a supervisor's or admin's)."""
    return cases.add_message(ref, body.text, body.author, key.name,
                             author_name=_author_name(body, key), created_at=body.created_at,
                             key_id=key.key_id, admin=key.supervises).case


def _author_name(body: MessageIn, key: Principal) -> str | None:
    if body.author != "agent":
        return body.author_name
    if body.author_name not in (None, key.name):
        raise InputError(f"author_name is {body.author_name!r}, but an agent reply is "
                         f"written by the key's holder, {key.name!r}; leave author_name out",
                         detail={"field": "author_name", "expected": key.name})
    return key.name


@router.get("/{ref}", response_model=CaseDetailOut)
def get_case(ref: Ref, key: AgentKey, cases: CasesDep) -> dict[str, Any]:
    """The case with its transcript, score history, audit log and feedback."""
    return cases.get(ref)


@router.post("/{ref}/heartbeat", response_model=CaseOut)
def heartbeat(ref: Ref, key: AgentKey, cases: CasesDep) -> dict[str, Any]:
    """Extend your lease on a ticket you claimed (TRIAGE_LEASE_SECONDS from now)."""
    return cases.heartbeat(ref, key.name, key_id=key.key_id)


@router.post("/{ref}/release", response_model=CaseOut)
def release(ref: Ref, key: AgentKey, cases: CasesDep) -> dict[str, Any]:
    """Give a claimed ticket back to the queue, at its place."""
    return cases.release(ref, key.name, admin=key.supervises, key_id=key.key_id)


@router.post("/{ref}/resolve", response_model=CaseOut)
def resolve(ref: Ref, key: AgentKey, cases: CasesDep,
            body: ResolveIn | None = None) -> dict[str, Any]:
    """Close the case (a later customer message reopens it)."""
    return cases.resolve(ref, key.name, admin=key.supervises,
                         note=body.note if body else None, key_id=key.key_id)


@router.post("/{ref}/escalate", response_model=CaseOut)
def escalate(ref: Ref, key: AgentKey, cases: CasesDep,
             body: EscalateIn | None = None) -> dict[str, Any]:
    """Send the case to the supervisor lane by hand."""
    return cases.escalate(ref, key.name, body.reason if body else None,
                          admin=key.supervises, key_id=key.key_id)


@router.post("/{ref}/feedback", response_model=FeedbackOut, status_code=201)
def feedback(ref: Ref, body: FeedbackIn, key: AgentKey, cases: CasesDep) -> dict[str, Any]:
    """Label corrections per head (0/1) and/or the customer's CSAT (1-5) with a comment."""
    return cases.feedback(ref, Labels(body.labels or {}, csat=body.csat, comment=body.comment,
                                      message_id=body.message_id), key.name)
