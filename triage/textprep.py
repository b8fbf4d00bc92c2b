"""Text preparation before tokenization: what part of a message the model reads.

Deliberate choices (documented in docs/model-card.md):
- Quoted history in e-mail replies (lines starting with `>` and the "On ... wrote:" line
  above them) is dropped: it is what the agent or the customer said before, already scored.
- Who is writing, and from where, is masked where a message says it in the usual places:
  the name after "this is" / "my name is" / "<Name> here", the name in a sign-off
  ("Thanks,\nPriya", "Cheers, Tom", "- Ana") and the place after "writing from", "based in",
  "here in" and the like become `[name]` / `[place]`. Priority must never use name or region;
  the model cannot use what it does not see.
- Inside sentences, a capitalised name after words that introduce a person ("in the name
  of", "on behalf of", "my colleague", "Mrs", "spoke to", ...) becomes `[name]`, and any
  capitalised place name from a list of countries, US states and cities of 15,000 people or
  more (GeoNames, `triage/data/places.txt`, minus names that are ordinary words in our
  samples) becomes `[place]`. Other names inside sentences are not detected; the parity
  check in `triage eval` measures what is left.
- HTML entities are unescaped, runs of whitespace collapsed, and the text is capped at
  `max_chars` characters (head and tail kept) so a 1 MB paste cannot stall a worker.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

_QUOTE_HEADER = re.compile(r"^\s*(on .{3,200}wrote:|-{2,}\s*original message\s*-{2,})\s*$",
                           re.IGNORECASE)
_NAME = r"[A-Z][\w'’-]*(?:[ \t]+(?:[A-Z][\w'’-]*|van|de|der|da|al|bin|el)){0,3}"
_INTRO = re.compile(rf"\b((?i:this is|my name is|my name's|name's)[ \t]+){_NAME}")
_HERE = re.compile(rf"(^|[.!?,]\s*|\b(?i:hi|hello|hey),?\s+)({_NAME})(\s+here\b)")
_CLOSING = (r"(?i:thanks|thank you|many thanks|thanks again|regards|kind regards|"
            r"best regards|warm regards|best wishes|best|cheers|sincerely|yours sincerely|"
            r"yours faithfully|yours truly|thx|ta|respectfully)")
_SIGNOFF = re.compile(rf"(\b{_CLOSING}[ \t]*[,.!]?[ \t]*\n\s*)({_NAME})[ \t]*"
                      r"((?:\n[^\n]*){0,4})$")
_INLINE_SIGNOFF = re.compile(rf"(\b{_CLOSING},[ \t]+)({_NAME})([ \t]*[.!]?[ \t]*)$")
_DASH_SIGNOFF = re.compile(rf"(\n[ \t]*[-–—~][ \t]*){_NAME}[ \t]*$")
_PAREN_NAME = re.compile(rf"\(({_NAME})\)\s*$")
_PLACE = re.compile(r"\b((?i:(?:writing|messaging|calling|sent|greetings) from|based in|"
                    r"here in|i live in|living in|located in|i'm in|i am in))([ \t]+(?:the[ \t]+)?)"
                    rf"({_NAME}(?:,[ \t]*{_NAME})*)")
_PERSON_CUE = re.compile(
    r"\b((?i:(?:in|under)[ \t]+(?:the[ \t]+)?name(?:[ \t]+of)?|on[ \t]+behalf[ \t]+of|named|"
    r"(?:account|card)[ \t]*holder(?:[ \t]+is)?|registered[ \t]+(?:to|under)|belongs[ \t]+to|"
    r"addressed[ \t]+to|(?:spoke|spoken|talked|talking|speaking|chatted)[ \t]+(?:to|with)|"
    r"(?:my|our|his|her|their|your)[ \t]+(?:colleague|co-?worker|wife|husband|partner|son|"
    r"daughter|mother|father|mom|mum|dad|brother|sister|friend|boss|manager|neighbou?r|tenant|"
    r"landlord|grand(?:mother|father|ma|pa)|aunt|uncle|cousin|fianc[ée]e?|carer|assistant)"
    r"(?:,)?(?:[ \t]+(?:called|named))?|(?:agent|rep|representative|advisor|adviser|"
    r"supervisor|technician|engineer|driver|courier)(?:[ \t]+(?:called|named))?)[ \t]+)"
    r"((?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+)?"
    rf"(?!I\b)({_NAME})")  # "I told your agent I wanted..." keeps its "I"
# the words `_PERSON_CUE` starts with: a cheap test before running the (slower) expression
_CUE_WORDS = ("name", "behalf", "holder", "registered", "belongs", "addressed", "spoke",
              "spoken", "talk", "speaking", "chatted", "my ", "our ", "his ", "her ",
              "their ", "your ", "agent", "rep", "advis", "supervisor", "technician",
              "engineer", "driver", "courier")
_TITLE = re.compile(r"(?<![@#\w])(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+" + _NAME)
_TITLE_RUN = re.compile(r"(?<![@#\w])[A-ZÀ-Þ][\w'’.-]*(?:[ \t]+(?:(?:de|da|del|do|dos|das|la|"
                        r"le|les|al|el|es|of|upon|on|am|an|der|den|van|von|y)[ \t]+)?"
                        r"[A-ZÀ-Þ][\w'’.-]*)*")
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


@cache
def places() -> frozenset[str]:
    """The place names that are masked wherever they appear capitalised."""
    path = Path(__file__).with_name("data") / "places.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _mask_places(match: re.Match[str]) -> str:
    """Within one run of capitalised words, replace the longest known place names."""
    run = match.group(0)
    known = places()
    if " " not in run and "\t" not in run:  # most runs are one word
        return run if run.rstrip(".") not in known else (
            "[place]." if run.endswith(".") else "[place]")
    words = run.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            candidate = " ".join(words[i:j]).rstrip(".")
            if candidate in known:
                out.append("[place]" + ("." if words[j - 1].endswith(".") else ""))
                i = j
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def mask_identity(text: str) -> str:
    """Replace names and places (introductions, sign-offs, stated places, person cues and
    known place names) with placeholders."""
    text = _INTRO.sub(lambda m: m.group(1) + "[name]", text)
    text = _HERE.sub(lambda m: m.group(1) + "[name]" + m.group(3), text)
    text = _SIGNOFF.sub(lambda m: m.group(1) + "[name]" + ("\n[signature]" if m.group(3).strip()
                                                           else ""), text)
    text = _INLINE_SIGNOFF.sub(lambda m: m.group(1) + "[name]" + m.group(3), text)
    text = _DASH_SIGNOFF.sub(lambda m: m.group(1) + "[name]", text)
    text = _PAREN_NAME.sub("([name])", text)
    text = _PLACE.sub(lambda m: m.group(1) + m.group(2) + "[place]", text)
    lower = text.lower()
    if any(cue in lower for cue in _CUE_WORDS):
        text = _PERSON_CUE.sub(lambda m: m.group(1) + "[name]", text)
    text = _TITLE.sub("[name]", text)
    return _TITLE_RUN.sub(_mask_places, text)


def prepare(text: str, max_chars: int = 20_000) -> str:
    """The text the model reads: unescaped, de-quoted, identity-masked, normalised, capped."""
    text = html.unescape(text)
    text = strip_quoted(text)
    text = mask_identity(text)
    text = _WS.sub(" ", text)
    text = _BLANKS.sub("\n\n", text)
    return cap(text.strip(), max_chars)
