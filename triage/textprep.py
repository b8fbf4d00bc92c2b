"""Text preparation before tokenization: what part of a message the model reads.

Deliberate choices (documented in docs/model-card.md):
- Quoted history in e-mail replies (lines starting with `>` and the "On ... wrote:" line
  above them) is dropped: it is what the agent or the customer said before, already scored.
- HTML entities are unescaped, runs of whitespace collapsed, and the text is capped at
  `max_chars` characters (head and tail kept) so a 1 MB paste cannot stall a worker.
"""

from __future__ import annotations

import html
import re

_QUOTE_HEADER = re.compile(r"^\s*(on .{3,200}wrote:|-{2,}\s*original message\s*-{2,})\s*$",
                           re.IGNORECASE)
_WS = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n{3,}")


def strip_quoted(text: str) -> str:
    """Drop quoted reply history: `>` lines and the 'On ... wrote:' header that opens them."""
    kept: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            continue
        if _QUOTE_HEADER.match(line):
            continue
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()


def cap(text: str, max_chars: int) -> str:
    """Keep the head and tail of a very long text, `max_chars` characters in all."""
    if len(text) <= max_chars:
        return text
    head = max_chars * 3 // 4
    return text[:head] + " … " + text[len(text) - (max_chars - head):]


def prepare(text: str, max_chars: int = 20_000) -> str:
    """The text the model reads: unescaped, de-quoted, whitespace-normalised and capped."""
    text = html.unescape(text)
    text = strip_quoted(text)
    text = _WS.sub(" ", text)
    text = _BLANKS.sub("\n\n", text)
    return cap(text.strip(), max_chars)
