"""PII masking for logs: e-mail addresses, phone numbers and card numbers never reach a log.

`RedactingFormatter` masks the whole formatted line, tracebacks included; `serve` installs it
on every handler (uvicorn's too) through `log_config()`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<![\w.:/-])\+?(?:\(\d{1,4}\)[ .-]?)?\d[\d .()-]{5,}\d(?![\w.:/-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


def mask(text: str) -> str:
    """`text` with e-mails, card numbers, IBANs and phone numbers replaced by placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    text = _CARD.sub("[card]", text)
    return _PHONE.sub(_phone, text)


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
