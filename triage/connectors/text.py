"""Helpdesk bodies to plain text: HTML stripped, quoted history and scripts dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<!--")
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_DROP = frozenset({"script", "style", "blockquote", "head", "title"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self.dropping += 1
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self.dropping = max(0, self.dropping - 1)
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


def plain_text(body: str | None, *, html: bool | None = None) -> str:
    """`body` as plain text; HTML is detected when `html` is None."""
    if not body:
        return ""
    if html is None:
        html = bool(_TAG.search(body))
    if html:
        parser = _Text()
        parser.feed(body)
        parser.close()
        body = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in body.replace("\r", "").split("\n")]
    if html:  # block tags open and close lines: one break between blocks
        lines = [line for line in lines if line]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
