"""PII and secret masking for logs: e-mail addresses, phone numbers, card numbers, IBANs,
API keys and secret query parameters never reach a log.

`RedactingFormatter` masks the whole formatted line, tracebacks included; `serve` installs it
on every handler (uvicorn's too) through `log_config()`.

Masking runs on every log line, the access log's included, so its cost must not depend on
what a caller sends: every pattern is linear in the text (each match attempt is bounded, no
nested unbounded repetition), and a line is masked over its first `MAX_SCAN` characters
only; the rest is dropped, never written unmasked. (A 64,000-character URL once kept the
event loop busy for 28 s here.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

MAX_SCAN = 16_384
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<![\w.:/-])\+?(?:\(\d{1,4}\)[ .-]?)?\d[\d .()-]{5,30}\d(?![\w.:/-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_PARAM = re.compile(r"(?<=[?&;])([^=&\s#\"'?;]{1,64})=([^&\s#\"';]*)")
_SECRET_NAME = re.compile(r"key|token|secret|sig|passw|pwd|auth|credential|session",
                          re.IGNORECASE)
_BEARER = re.compile(r"\b(bearer)\s+[\w.~+/=-]{1,4096}", re.IGNORECASE)
_API_KEY = re.compile(r"\btrg_[\w-]{4,}")


def mask(text: str) -> str:
    """`text` with personal data and secrets replaced by placeholders.

    Only the first `MAX_SCAN` characters are kept (and masked); a note says how many more
    there were.
    """
    extra = len(text) - MAX_SCAN
    if extra > 0:
        text = text[:MAX_SCAN]
    text = _PARAM.sub(_param, text)
    text = _BEARER.sub(r"\1 [secret]", text)
    text = _API_KEY.sub("[key]", text)
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    text = _CARD.sub("[card]", text)
    text = _PHONE.sub(_phone, text)
    return text + f" ... [{extra} more characters not logged]" if extra > 0 else text


def _param(m: re.Match[str]) -> str:
    name = m.group(1)
    return f"{name}=[secret]" if _SECRET_NAME.search(name) else m.group()


def _phone(m: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in m.group())
    if not 7 <= digits <= 15 or _DATE.search(m.group()):
        return m.group()
    return "[phone]"


class RedactingFormatter(logging.Formatter):
    """A Formatter whose output has PII masked (message, arguments and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        masked = logging.makeLogRecord(record.__dict__)
        masked.msg, masked.args = mask(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            masked.exc_text = self.formatException(record.exc_info)
        if masked.exc_text:
            masked.exc_text = mask(masked.exc_text)
        return super().format(masked)


def log_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` (and uvicorn `log_config`) that masks PII everywhere.

    `fmt` "json" writes one JSON object per line with the request id
    (`requestlog.JsonFormatter`); "text" a plain line.
    """
    if fmt == "json":
        formatter: dict[str, Any] = {"()": "triage.api.requestlog.JsonFormatter"}
    else:
        formatter = {"()": RedactingFormatter,
                     "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    handler = {"class": "logging.StreamHandler", "formatter": "masked",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"masked": formatter},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "triage")}
        | {"alembic": {"level": "WARNING"}},  # not its plugin list at every start
    }
