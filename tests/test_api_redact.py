"""PII never reaches the logs: e-mails, phone numbers, card numbers and IBANs are masked."""

from __future__ import annotations

import logging
import sys

import pytest

from triage.api.redact import RedactingFormatter, log_config, mask


@pytest.mark.parametrize("text, expected", [
    ("write to jane.doe+help@example.co.uk today", "write to [email] today"),
    ("call +44 20 7946 0958 now", "call [phone] now"),
    ("or (555) 123-4567 / 555.123.4567", "or [phone] / [phone]"),
    ("card 4111 1111 1111 1111 exp 12/29", "card [card] exp 12/29"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [iban] please"),
])
def test_api_redact_masks_personal_data(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    'POST /v1/tickets/CS-2026-000123/resolve HTTP/1.1" 200',
    "2026-03-02 09:00:00,123 INFO started",
    "127.0.0.1:8000 took 1234 ms, 12345 rows",
])
def test_api_redact_leaves_case_numbers_times_and_addresses(text: str) -> None:
    assert mask(text) == text


def test_api_redact_formatter_masks_arguments_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("bad input from bob@example.org")
    except ValueError:
        record = logging.LogRecord("triage", logging.ERROR, __file__, 1,
                                   "customer %s called from %s", ("a@b.io", "+1 415 555 0100"),
                                   exc_info=sys.exc_info())
    line = formatter.format(record)
    assert line.startswith("ERROR customer [email] called from [phone]")
    assert "ValueError: bad input from [email]" in line
    assert "example" not in line


def test_api_redact_log_config_covers_uvicorn() -> None:
    config = log_config("warning")
    assert config["formatters"]["masked"]["()"] is RedactingFormatter
    assert {"uvicorn.access", "uvicorn.error", "triage"} <= set(config["loggers"])
    assert config["root"]["level"] == "WARNING"
