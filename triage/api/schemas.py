"""Request and response shapes of the HTTP API (pydantic), shown in the OpenAPI docs.

Request shapes are strict, so the schema says what the API takes: a label is the number 0
or 1 (not `false`), a time is an ISO 8601 string (not a number of seconds), a count is a
number (not a string of digits). Limits the API enforces are written into the schema
(`minLength`, `minItems`, ...), except those an operator sets (TRIAGE_MAX_TEXT_CHARS,
TRIAGE_MAX_BATCH), which the docs' 413 and 422 responses describe.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from triage.vocabulary import Direction, Lane, Status, Trend

Label = Annotated[int, Strict(), Field(ge=0, le=1, description="0 or 1 (a number, not a "
                                                             "boolean).")]
Head = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Count = Annotated[int, Strict()]
Amount = Annotated[float, Strict()]


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str | date):
        # pydantic reports a ValueError as a validation error (a TypeError would be a 500)
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")  # noqa: TRY004
    return value


When = Annotated[AwareDatetime, BeforeValidator(_iso_text),
                 Field(description="ISO 8601 with a time zone, within the last year.")]
Day = Annotated[date, BeforeValidator(_iso_text)]


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character; remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("is not valid Unicode (a lone surrogate?); send UTF-8 text") from exc
    return value


Clean = Annotated[str, AfterValidator(_clean)]
Text = Annotated[Clean, Field(min_length=1, pattern=r"\S",
                              description="The message (not blank; at most "
                                          "TRIAGE_MAX_TEXT_CHARS characters).")]


Id200 = Annotated[Clean, Field(min_length=1, max_length=200)]
Name64 = Annotated[Clean, Field(min_length=1, max_length=64)]
Name32 = Annotated[Clean, Field(min_length=1, max_length=32)]


class Closed(BaseModel):
    """A request shape: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """A request shape from a helpdesk: strict types, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore")


# --- scoring -------------------------------------------------------------------------------


class ScoreRequest(Closed):
    """One message (`text`) or a batch (`texts`, up to TRIAGE_MAX_BATCH)."""

    text: Text | None = None
    texts: Annotated[list[Text], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ScoreRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("send either 'text' (one message) or 'texts' (a list), not both")
        if self.texts is not None and not self.texts:
            raise ValueError("'texts' is empty; send at least one message")
        return self

    def items(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class PhraseOut(BaseModel):
    phrase: str
    weight: float


class ScoreOut(BaseModel):
    """One message's verdict. Each of the model's heads is also a top-level field (for the
    default model `frustration`, `churn_risk`, `urgency`), None when the message could
    not be scored."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "additionalProperties": {"type": ["number", "null"]}})

    scores: dict[str, float] | None = Field(description="Head -> calibrated probability.")
    scorable: bool
    reason: str | None
    language: str | None
    model_version: str
    explanation: dict[str, list[PhraseOut]] | None = None


class ScoreResponse(BaseModel):
    model_version: str
    results: list[ScoreOut]


# --- tickets -------------------------------------------------------------------------------


class CustomerIn(Open):
    """Facts about the customer. Other fields (name, region, ...) are accepted and dropped."""

    customer_id: Id200
    customer_since: Day | None = None
    tier: Name64 | None = None
    plan: Name64 | None = None
    lifetime_value: Amount | None = Field(None, ge=0, allow_inf_nan=False)


class TicketIn(Open):
    """A new customer message from a helpdesk (extra helpdesk fields are ignored)."""

    text: Text
    channel: Name32 = "api"
    subject: Annotated[Clean, Field(max_length=500)] | None = None
    source: Name64 = "api"
    external_id: Id200 | None = None
    created_at: When | None = None
    customer: CustomerIn | None = None


class MessageIn(Closed):
    text: Text
    author: Literal["customer", "agent"] = "customer"
    author_name: Id200 | None = Field(None, description="The customer's name as the "
                                      "helpdesk shows it. An agent reply's author is the "
                                      "key's holder: leave it out, or send that name.")
    created_at: When | None = None


class ClaimIn(Closed):
    lanes: list[Lane] | None = Field(None, description="Lanes to claim from (default: all).")


class EscalateIn(Closed):
    reason: Annotated[Clean, Field(max_length=2000)] | None = None


class ResolveIn(Closed):
    note: Annotated[Clean, Field(max_length=2000)] | None = None


class FeedbackIn(Closed):
    """An agent's label corrections and/or the customer's CSAT (1-5) with a comment.

    At least one of them: a label (0 or 1), `csat`, or `comment`."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["labels"]}, {"required": ["csat"]}, {"required": ["comment"]}]})

    labels: dict[Head, Label] | None = Field(
        None, description="Head -> 0 or 1, for any head the model scores; leave a head out "
                          "for no opinion.")
    csat: Count | None = Field(None, ge=1, le=5)
    comment: Annotated[Clean, Field(max_length=5000)] | None = None
    message_id: Count | None = Field(None, ge=1, le=2**53,
                                   description="Default: the newest customer message.")


class TermOut(BaseModel):
    name: str
    minutes: float
    detail: str
    phrase: str | None
    plain: str | None = Field(description="The term in an agent's words, without the "
                                          "policy's numbers (kept in `detail`).")


class PriorityOut(BaseModel):
    policy: str
    lane: Lane
    position: float
    waiting_minutes: float
    boost_minutes: float
    terms: list[TermOut]
    escalate: bool
    escalation_reason: str | None
    sla_due_at: str
    sla_breached: bool
    sla_near_breach_at: str = Field(description="From here to `sla_due_at` the SLA is near "
                                                "breach (the policy's near-breach window).")
    explanation: str
    summary: str = Field(description="The explanation in an agent's words (no policy "
                                     "numbers); `explanation` and `terms` keep them.")


class CustomerOut(BaseModel):
    customer_id: str
    customer_since: str | None
    tier: str | None
    plan: str | None
    lifetime_value: float | None


class LeaseOut(BaseModel):
    holder: str = Field(description="The name of the key that holds the claim.")
    key_id: int | None = Field(None, description="The id of the key that holds the claim.")
    expires_at: str | None


class FrustrationTrendOut(BaseModel):
    direction: Direction
    change: float = Field(description="Least-squares change of frustration from the first "
                                      "to the newest scored message, -1 to 1.")


class CaseOut(BaseModel):
    id: int
    case_number: str
    source: str
    external_id: str | None
    channel: str
    subject: str | None
    status: Status
    lane: Lane
    customer: CustomerOut | None
    scores: dict[str, float] | None
    scorable: bool
    unscorable_reason: str | None
    model_version: str | None
    trend: Trend | None
    frustration_trend: FrustrationTrendOut | None = Field(
        description="How frustration moved across the customer's messages (priority.v2 "
                    "gives a rising trend a bounded head start).")
    repeat_contacts_7d: int
    position: float | None
    explanation: str | None
    summary: str | None = Field(description="`explanation` in an agent's words.")
    priority: PriorityOut | None
    lease: LeaseOut | None
    waiting_since: str
    created_at: str
    updated_at: str
    resolved_at: str | None


class IntakeOut(CaseOut):
    created: bool = Field(description="True when this request opened the case.")
    appended: bool = Field(description="True when a known external id added a message.")


class MessageOut(BaseModel):
    id: int
    author: str
    author_name: str | None
    text: str
    created_at: str
    scores: dict[str, float] | None
    scorable: bool | None
    unscorable_reason: str | None
    language: str | None
    model_version: str | None
    phrases: dict[str, list[str]] | None


class HistoryOut(BaseModel):
    at: str
    message_id: int | None
    scores: dict[str, float] | None
    trend: str | None
    lane: str
    boost_minutes: float
    model_version: str | None
    policy: str


class AuditOut(BaseModel):
    at: str
    actor: str
    action: str
    detail: dict[str, Any] | None


class FeedbackOut(BaseModel):
    id: int
    at: str
    actor: str
    message_id: int | None
    labels: dict[str, int]
    csat: int | None
    comment: str | None


class CaseDetailOut(CaseOut):
    messages: list[MessageOut]
    score_history: list[HistoryOut]
    audit: list[AuditOut]
    feedback: list[FeedbackOut]


class QueueOut(BaseModel):
    policy: str
    now: str
    depth: dict[str, int] = Field(description="Queued tickets per lane (all lanes, always).")
    entries: list[CaseOut]


# --- keys, model, health -----------------------------------------------------------------------


class KeyIn(Closed):
    name: Id200
    role: Literal["agent", "supervisor", "admin"] = "agent"


class KeyOut(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    created_at: str
    revoked_at: str | None


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The key itself: shown once, store it now.")


class ModelOut(BaseModel):
    model_version: str
    manifest: dict[str, Any]
    policy: dict[str, Any]
    ticket_url_templates: dict[str, str] = Field(
        description="Per ticket source, the helpdesk link with `{external_id}` "
                    "(TRIAGE_TICKET_URL_TEMPLATES); the id goes in URL-encoded.")


class ErrorOut(BaseModel):
    error: str
    error_type: str
    detail: Any = None


class ConnectorResultOut(BaseModel):
    """What a helpdesk webhook got: accepted (stored), duplicate or ignored (and why)."""

    status: Literal["accepted", "duplicate", "ignored"]
    reason: str | None = None
    case_number: str | None = None
    created: bool | None = None
    write_back: bool | None = None


class OutboxOut(BaseModel):
    counts: dict[str, dict[str, int]]
    dead: list[dict[str, Any]]
