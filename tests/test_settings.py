"""Settings read from the environment, and the checks that refuse a bad one at start."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from triage.settings import Settings

ZENDESK = "https://acme.zendesk.com/agent/tickets/{external_id}"


def test_settings_ticket_url_templates_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_TICKET_URL_TEMPLATES", json.dumps({"zendesk": ZENDESK}))
    assert Settings().ticket_url_templates == {"zendesk": ZENDESK}


def test_settings_ticket_url_templates_default_to_none() -> None:
    assert Settings().ticket_url_templates == {}


@pytest.mark.parametrize(("template", "expected"), [
    ("javascript:alert(1)//{external_id}", "http:// or https:// URL"),
    ("data:text/html,{external_id}", "http:// or https:// URL"),
    ("/agent/tickets/{external_id}", "http:// or https:// URL"),
    ("https://acme.zendesk.com/agent/tickets/", "{external_id} exactly once"),
    ("https://acme.zendesk.com/{external_id}/{external_id}", "{external_id} exactly once"),
    ("https://acme.zendesk.com/{id}?t={external_id}", "no other {placeholder}"),
])
def test_settings_ticket_url_templates_refuse_what_is_no_ticket_link(template: str,
                                                                    expected: str) -> None:
    with pytest.raises(ValidationError, match=expected.replace("{", r"\{").replace("}", r"\}")):
        Settings(ticket_url_templates={"zendesk": template})
