"""One settings object for the whole service, read from `TRIAGE_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)


def default_home() -> Path:
    """Where `triage` keeps its SQLite file and default model unless told otherwise."""
    return Path.home() / ".local" / "share" / "triage"


class Settings(BaseSettings):
    """Service configuration. Every field can be set as `TRIAGE_<FIELD>` in the environment.

    Limits on one request's work: `max_body_bytes` (413), `max_url_chars` (414),
    `max_header_bytes` (431), `max_batch` messages and `max_request_chars` characters per
    `/v1/score` request (422 and 413), `max_explain_chars` characters explained per request
    (422). Scoring is admitted through `inference_slots` plus a wait line of `score_queue`
    requests waiting at most `score_wait_seconds`, and at most `max_per_key` requests of one
    key at once; beyond that a request gets 429 at once instead of queuing.

    `key_cache_seconds`: a key found valid is trusted for this long without a database
    look-up. Revoking a key takes effect at once in the process that revoked it, and within
    this many seconds in every other worker or server (and after `triage keys revoke`);
    0 turns the cache off (every request queries the database).
    """

    model_config = SettingsConfigDict(
        env_prefix="TRIAGE_", env_file=None, secrets_dir=None, extra="ignore"
    )

    home: Path = Field(default_factory=default_home)
    model_dir: Path | None = None
    database_url: str | None = None
    samples_dir: Path | None = None
    threads: int = 0
    batch_size: int = 32
    max_batch: int = 256
    max_text_chars: int = 20_000
    max_body_bytes: int = 8_000_000
    max_in_flight: int = 64
    max_url_chars: int = 8_192
    max_header_bytes: int = 32_768
    max_request_chars: int = 200_000
    max_explain_chars: int = 20_000
    score_queue: int = 0
    score_wait_seconds: float = 2.0
    max_per_key: int = 0
    metrics_cache_seconds: float = 5.0
    metrics_need_key: bool = False
    key_cache_seconds: float = 5.0
    inference_slots: int = 0
    lease_seconds: int = 300
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    explain_top: int = 3
    review_seconds: int = 60
    sweep_seconds: float = 15.0
    auto_migrate: bool = True
    priority_policy: dict[str, Any] | None = None
    build_config: dict[str, Any] | None = None
    ticket_url_templates: dict[str, str] = Field(
        default_factory=dict,
        description="Per ticket source, a link to the ticket in its helpdesk: an http(s) "
                    "URL with `{external_id}` where the (URL-encoded) id goes.")

    @field_validator("ticket_url_templates")
    @classmethod
    def _check_ticket_urls(cls, value: dict[str, str]) -> dict[str, str]:
        for source, template in value.items():
            check_ticket_url(source, template)
        return value

    # helpdesk connectors (docs/connectors.md): each is off until its URL, API token and
    # webhook secret are all set. Secrets are SecretStr: never printed or logged.
    public_url: str | None = None
    chatwoot_url: str | None = None
    chatwoot_api_token: SecretStr | None = None
    chatwoot_webhook_secret: SecretStr | None = None
    zammad_url: str | None = None
    zammad_api_token: SecretStr | None = None
    zammad_webhook_secret: SecretStr | None = None
    zammad_priority_ids: dict[str, int] = Field(
        default_factory=lambda: {"low": 1, "normal": 2, "high": 3, "urgent": 3})
    zammad_note: bool = True
    zendesk_url: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_webhook_secret: SecretStr | None = None
    zendesk_email: str | None = None
    zendesk_fields: dict[str, int] = Field(default_factory=dict)
    freshdesk_url: str | None = None
    freshdesk_api_token: SecretStr | None = None
    freshdesk_webhook_secret: SecretStr | None = None
    freshdesk_fields: dict[str, str] = Field(default_factory=dict)
    connector_priority: dict[str, Any] | None = None
    connector_worker: bool = True
    connector_timeout_seconds: float = 10.0
    outbox_poll_seconds: float = 1.0
    outbox_lease_seconds: float = 60.0
    outbox_max_attempts: int = 10
    outbox_retry_seconds: float = 2.0
    outbox_keep_days: float = 30.0

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then files in `TRIAGE_SECRETS_DIR` (one file per setting,
        named like the variable, e.g. `triage_chatwoot_api_token`: Docker/k8s secrets)."""
        folder = os.environ.get("TRIAGE_SECRETS_DIR")
        if folder:
            file_secret_settings = SecretsSettingsSource(settings_cls, secrets_dir=folder)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    def resolved_model_dir(self) -> Path:
        """The model directory in use: `TRIAGE_MODEL_DIR`, else `<home>/models/default`."""
        return self.model_dir or self.home / "models" / "default"

    def resolved_database_url(self) -> str:
        """The database in use: `TRIAGE_DATABASE_URL`, else a SQLite file under home."""
        return self.database_url or f"sqlite:///{self.home / 'triage.db'}"


def check_ticket_url(source: str, template: str) -> None:
    """A ticket link template must be an absolute http(s) URL naming `{external_id}` once."""
    parts = urlsplit(template.replace("{external_id}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"ticket_url_templates[{source!r}] is {template!r}; expected an "
                         "http:// or https:// URL such as "
                         "https://acme.zendesk.com/agent/tickets/{external_id}")
    if template.count("{external_id}") != 1 or "{" in template.replace("{external_id}", ""):
        raise ValueError(f"ticket_url_templates[{source!r}] is {template!r}; expected "
                         "{external_id} exactly once and no other {placeholder}")
