"""PII never reaches the logs: e-mails, phone numbers, card numbers and IBANs are masked."""

from __future__ import annotations

import logging
import re
import sys
import time

import pytest

from triage.api.redact import (
    _API_KEY,
    _BEARER,
    _CARD,
    _EMAIL,
    _IBAN,
    _PARAM,
    _PHONE,
    MAX_SCAN,
    RedactingFormatter,
    log_config,
    mask,
)


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


@pytest.mark.parametrize("text, expected", [
    ("GET /v1/score?key=trg_abc123def456&x=1 HTTP/1.1",
     "GET /v1/score?key=[secret]&x=1 HTTP/1.1"),
    ("GET /hook?api_key=s3cr3t;access_token=abc&signature=f00 HTTP/1.1",
     "GET /hook?api_key=[secret];access_token=[secret]&signature=[secret] HTTP/1.1"),
    ("GET /cb?page=2&client_secret=xyz&Token=Q",
     "GET /cb?page=2&client_secret=[secret]&Token=[secret]"),
    ("Authorization: Bearer trg_abcdefghijklmnop", "Authorization: Bearer [secret]"),
    ("key trg_abcdefghijklmnop leaked", "key [key] leaked"),
])
def test_api_redact_masks_secrets(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_api_redact_keeps_ordinary_query_strings() -> None:
    line = 'GET /v1/queue?lane=standard&status=open&limit=50 HTTP/1.1" 200'
    assert mask(line) == line


def test_api_redact_scans_a_bounded_prefix_and_drops_the_rest() -> None:
    text = "x" * MAX_SCAN + " mail jane@example.com " + "y" * 50_000
    out = mask(text)
    assert "jane" not in out and "example" not in out
    assert out.startswith("x" * 100)
    assert out.endswith(f"[{len(text) - MAX_SCAN} more characters not logged]")
    assert len(out) < MAX_SCAN + 100


HOSTILE = [
    "a" * 65_536,  # e-mail local part without an '@' (was quadratic: 28 s for a 64k URL)
    "a." * 32_768,
    ".(1" * 21_845 + "x",  # phone-like run that never ends on a digit (was quadratic)
    " 1." * 21_845 + "x",
    "?" + "a=b&" * 16_384,
    "a@" * 32_768,
    "1 " * 32_768,
]


@pytest.mark.parametrize("pattern", [_EMAIL, _PHONE, _CARD, _IBAN, _PARAM, _BEARER, _API_KEY])
def test_api_redact_patterns_stay_linear_on_hostile_input(pattern: re.Pattern[str]) -> None:
    """Each pattern over 64k-character hostile texts, without the MAX_SCAN cut. The quadratic
    patterns took 25 to 60 s per text here; linear ones take milliseconds, so the generous
    bound only catches a return of the quadratic behaviour."""
    started = time.perf_counter()
    for text in HOSTILE:
        pattern.sub("", text)
    assert time.perf_counter() - started < 10.0


def test_api_redact_formatter_masks_a_huge_access_log_line_in_bounded_work(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.api import redact

    seen: list[int] = []
    real = redact._EMAIL

    class Spy:
        def sub(self, repl: str, text: str) -> str:
            seen.append(len(text))
            return real.sub(repl, text)

    monkeypatch.setattr(redact, "_EMAIL", Spy())
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/" + "a" * 64_000 + "?key=trg_x1y2z3",
                                "1.1", 414), None)
    line = RedactingFormatter("%(message)s").format(record)
    assert seen and max(seen) <= MAX_SCAN
    assert "trg_x1y2z3" not in line and len(line) < MAX_SCAN + 100
