"""The `triage` error tree. Every error the library raises on purpose is one of these.

    TriageError
    ├── InputError                 bad input from a user: fix the input and retry
    │   ├── RecordError            a row or file that does not follow the ticket format
    │   │   ├── BrokenJson         a JSONL line that is not JSON
    │   │   └── NotAnObject        a JSONL line that is JSON but not an object
    │   ├── NotText                a message that is not a string
    │   ├── EmptyText              a message with nothing but white space
    │   └── TextTooLong            a message over the configured size limit (422)
    ├── ModelError                 the model directory cannot be used
    │   ├── ManifestError          manifest missing, unreadable or inconsistent
    │   └── ModelBuilding          the default model is still being built: retry later
    ├── NotFound                   a ticket, key or case that does not exist
    ├── Conflict                   a state change that is not allowed now (claimed, resolved)
    ├── AuthError                  missing or wrong API key
    │   └── Forbidden              a key whose role may not do this
    ├── Overloaded                 too much work in flight: retry later
    └── StoreError                 the database failed or is unreachable

Each boundary maps the tree once: the API to an HTTP status and a JSON body
`{"error", "error_type", "detail"}`, the CLI to a one-line message and an exit code.
"""

from __future__ import annotations

from typing import Any


class TriageError(Exception):
    """Base of every deliberate `triage` error."""

    status_code = 500
    exit_code = 1

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InputError(TriageError):
    status_code = 422
    exit_code = 2


class RecordError(InputError):
    """A row or file that does not follow the labelled-ticket format."""

    whole_file = False  # set when nothing of the file could be read: skipping cannot help

    def __init__(
        self, message: str, *, source: str | None = None, line: int | None = None,
        detail: Any = None, hint: str | None = None
    ) -> None:
        self.hint = hint  # what to do about it, when the message alone does not say
        where = ""
        if source is not None:
            where = f"{source}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + message, detail=detail)
        self.source = source
        self.line = line


class BrokenJson(RecordError):
    """A JSONL line that is not valid JSON."""


class NotAnObject(RecordError):
    """A JSONL line that is valid JSON but not an object."""


class NotText(InputError):
    """A message that is not a string."""


class EmptyText(InputError):
    """A message with nothing but white space."""


class TextTooLong(InputError):
    """A message over the configured size limit: a validation error (422) like the others.

    (A request *body* over the byte limit is refused earlier, with 413.)"""


class ModelError(TriageError):
    status_code = 503
    exit_code = 3


class ManifestError(ModelError):
    pass


class ModelBuilding(ModelError):
    """The model is being built (first start): 503 with `Retry-After: retry_after`."""

    def __init__(self, message: str, *, retry_after: int = 30, detail: Any = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class NotFound(TriageError):
    status_code = 404
    exit_code = 4


class Conflict(TriageError):
    status_code = 409
    exit_code = 5


class AuthError(TriageError):
    status_code = 401
    exit_code = 6


class Forbidden(AuthError):
    status_code = 403


class Overloaded(TriageError):
    status_code = 429
    exit_code = 7


class StoreError(TriageError):
    status_code = 503
    exit_code = 8
