"""What every helpdesk connector shares: the webhook as received, signature checks, the
parsed customer message, and the shape of a connector.

A connector is a class with a `name`, three settings (`TRIAGE_<NAME>_URL`,
`TRIAGE_<NAME>_API_TOKEN`, `TRIAGE_<NAME>_WEBHOOK_SECRET`) and four duties: `verify` a
webhook (401 otherwise), `parse` it into an `Inbound` customer message or an `Ignored`
reason, build the `write_back` HTTP calls for a priority, and say how to `probe` its API.
Everything else (dedupe, intake, the outbox, delivery) is the gateway's and the worker's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import SecretStr

from triage.cases import CustomerFacts
from triage.connectors.mapping import Level
from triage.errors import AuthError
from triage.settings import Settings

MAX_AGE_SECONDS = 300
MARKER = "[triage]"  # starts every note we write, so it is never taken in as a message


@dataclass(frozen=True)
class Webhook:
    """A webhook request as it arrived: lower-cased headers, query, raw body, arrival time."""

    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    received: float  # unix seconds

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class Inbound:
    """One customer message from a helpdesk, ready for intake.

    `conversation` is the helpdesk's ticket or conversation id (the case's external id);
    `keys` are the delivery and message ids used to drop redeliveries; `context` is what
    the write-back needs later (account id, labels or tags the ticket already has).
    """

    source: str
    conversation: str
    text: str
    keys: tuple[str, ...]
    channel: str = "chat"
    subject: str | None = None
    customer: CustomerFacts | None = None
    created_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.source}#{self.conversation}"


@dataclass(frozen=True)
class Ignored:
    """A webhook that is not a customer message (agent reply, note, other event)."""

    reason: str


class Connector:
    """Base of the helpdesk connectors; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = (getattr(settings, f"{self.name}_url") or "").rstrip("/")
        self.token = _reveal(getattr(settings, f"{self.name}_api_token"))
        self.secret = _reveal(getattr(settings, f"{self.name}_webhook_secret"))

    @property
    def enabled(self) -> bool:
        """On only when the URL, API token and webhook secret are all configured."""
        return bool(self.url and self.token and self.secret)

    def missing(self) -> list[str]:
        """The settings still to set before this connector turns on."""
        names = {"URL": self.url, "API_TOKEN": self.token, "WEBHOOK_SECRET": self.secret}
        return [f"TRIAGE_{self.name.upper()}_{k}" for k, v in names.items() if not v]

    def verify(self, hook: Webhook) -> None:
        """Raise AuthError unless the webhook carries this helpdesk's proof."""
        raise NotImplementedError

    def parse(self, payload: dict[str, Any], hook: Webhook) -> Inbound | Ignored:
        raise NotImplementedError

    def write_back(self, inbound: Inbound, level: Level, case: dict[str, Any]
                   ) -> list[dict[str, Any]]:
        """The HTTP calls (method, path, json) that set `level` on the helpdesk ticket."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        """Authentication headers for the helpdesk API (built at send time, never stored)."""
        raise NotImplementedError

    def probe(self) -> str:
        """A cheap authenticated GET path that answers 200 with working credentials."""
        raise NotImplementedError

    def setup(self, webhook_url: str) -> str:
        """Where to paste the webhook URL and secret in the helpdesk."""
        raise NotImplementedError


# --- proofs ----------------------------------------------------------------------------


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(given.encode(), expected.encode())


def hmac_hex(secret: str, message: bytes, algorithm: str) -> str:
    return hmac.new(secret.encode(), message, algorithm).hexdigest()


def hmac_b64(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def require_fresh(stamp: str, now: float, what: str) -> None:
    """Refuse a missing, unreadable or stale (older than 5 minutes) timestamp."""
    at = parse_time(stamp)
    if at is None:
        raise AuthError(f"{what} is missing or not a time; expected unix seconds or ISO 8601")
    if abs(now - at.timestamp()) > MAX_AGE_SECONDS:
        raise AuthError(f"{what} is more than {MAX_AGE_SECONDS} s away from our clock; "
                        "a replayed or delayed webhook (check the server clocks)")


def refuse(name: str) -> AuthError:
    return AuthError(f"the {name} webhook signature is missing or wrong; check that "
                     f"TRIAGE_{name.upper()}_WEBHOOK_SECRET matches the helpdesk's secret")


# --- payload helpers -------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """Unix seconds (int or digits) or ISO 8601 (with Z or offset); None if unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        at = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def dig(payload: Any, *path: str) -> Any:
    """`payload[a][b]...`, or None where a level is missing or not a dict."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def as_id(value: Any) -> str | None:
    """An id from a payload as a string (ints and numeric strings alike); None if absent."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None


def case_fields(case: dict[str, Any]) -> dict[str, Any]:
    """What every connector writes next to the priority: scores, case number, reason."""
    scores = case.get("scores") or {}
    fields: dict[str, Any] = {head: round(float(v), 3) for head, v in scores.items()}
    fields["case"] = case.get("case_number")
    fields["lane"] = case.get("lane")
    fields["reason"] = case.get("explanation") or case.get("unscorable_reason")
    return fields


def _reveal(value: SecretStr | str | None) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value or ""
