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
  of", "on behalf of", "my colleague", "Mrs", "spoke to", ...) becomes `[name]`, and so does
  any run of capitalised words that are known first names or surnames (about 52,000 from
  many cultures, Faker's lists, `triage/data/names.txt`, minus names that are ordinary
  words in our samples): "Wei Zhang says" -> "[name] says". Names that are also English
  words ("Swift", "Media", `name_words.txt`) count only beside a known name ("Taylor
  Swift"). A single known name that opens a sentence is left alone (it may be an ordinary
  capitalised word there); two or more in a row are masked anywhere. Any capitalised place
  name from a list of countries, US states and cities of 15,000 people or more (GeoNames,
  `triage/data/places.txt`, minus names that are ordinary words in our samples) becomes
  `[place]`. A name on no list is still caught by its shape: a capitalised word that is no
  ordinary word (about 70,000 in `triage/data/words.txt`: SCOWL's English word list and the
  lower-case words of our samples) and no known place counts as a known name ("Zixuan
  Ouyang says" -> "[name] says"; "Monday", "Thanks", "Netflix" stay). What is left (such a
  name opening a sentence on its own, a name part that is also an English word) the parity
  check in `triage eval` measures, with names held out of every list.
  A capitalised word right after a name that our customers never write in lower case
  ("Situ", "Lieu": ordinary words in a dictionary, but not in `support_words.txt`, the
  lower-case words of our samples) is read as the rest of that name.
- British spellings become American ones ("colour" -> "color", "Cancelled" -> "Canceled",
  "mum" -> "mom"; about 1,600 pairs, `triage/data/spelling.txt`), keeping the case, so
  spelling cannot move a score. Common informal and dialect contractions become their
  standard forms the same way ("gonna" -> "going to", "y'all" -> "you all", "ain't" ->
  "isn't", "innit" -> "isn't it", "cos" -> "because", "pls" -> "please": `INFORMAL`), so
  dialect cannot either; words that carry tone as well as dialect ("yeah", "proper",
  "reckon") are left to the model, and the parity check measures them.
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
# every match of `_PERSON_CUE` contains one of these (lower case): a cheap test before
# running the (slower) expression; a test checks the two agree
_CUE_WORDS = ("name", "behalf", "holder", "registered", "belongs", "addressed", "spoke",
              "talk", "speaking", "chatted", "my", "our", "his", "her", "their", "your",
              "agent", "rep", "advis", "supervisor", "technician", "engineer", "driver",
              "courier")
_TITLE = re.compile(r"(?<![@#\w])(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+" + _NAME)
_TITLE_RUN = re.compile(r"(?<![@#\w])[A-ZÀ-Þ][\w'’.-]*(?:[ \t]+(?:(?:de|da|del|do|dos|das|la|"
                        r"le|les|al|el|es|of|upon|on|am|an|der|den|van|von|y)[ \t]+)?"
                        r"[A-ZÀ-Þ][\w'’.-]*)*")
_NAME_PARTICLES = frozenset({"Al", "El", "Abu", "Abd", "Bin", "Ibn", "Ben", "Bint"})
_NAME_JOINERS = frozenset({"van", "von", "de", "der", "den", "da", "do", "dos", "das", "del",
                           "la", "le", "al", "el", "bin", "y"})
_POSSESSIVE = re.compile(r"(['’]s|[.])$")
_LOWER_WORD = re.compile(r"[a-z]+")
# informal and dialect forms -> standard forms (meaning kept; tone words are not here)
INFORMAL = {
    "y'all": "you all", "ya'll": "you all", "gonna": "going to", "wanna": "want to",
    "gotta": "have to", "hafta": "have to", "gimme": "give me", "lemme": "let me",
    "kinda": "kind of", "sorta": "sort of", "lotta": "lot of", "outta": "out of",
    "dunno": "don't know", "innit": "isn't it", "ain't": "isn't", "aint": "isn't",
    "cos": "because", "coz": "because", "cuz": "because", "bcos": "because",
    "pls": "please", "plz": "please", "thx": "thanks", "tho": "though",
    "nothin": "nothing", "nuthin": "nothing", "somethin": "something",
    "shoulda": "should have", "coulda": "could have", "woulda": "would have",
    "tryna": "trying to", "finna": "about to", "cheers": "thanks", "mate": "friend",
    "mates": "friends", "kids": "children", "youse": "you", "yous": "you",
}
_INFORMAL = re.compile(
    r"(?<![\w'’])(" + "|".join(sorted((re.escape(k).replace("'", "['’]") for k in INFORMAL),
                                       key=len, reverse=True)) + r")(?![\w'’])",
    re.IGNORECASE)
_INFORMAL_FIRST = frozenset(_LOWER_WORD.match(k).group(0) for k in INFORMAL)  # type: ignore[union-attr]
_SPELT = re.compile(r"[A-Za-z]+")
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


def _word_list(filename: str) -> list[str]:
    path = Path(__file__).with_name("data") / filename
    return [line for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]


@cache
def places() -> frozenset[str]:
    """The place names that are masked wherever they appear capitalised."""
    return frozenset(_word_list("places.txt"))


@cache
def names() -> frozenset[str]:
    """First names and surnames that are masked wherever they appear capitalised."""
    return frozenset(_word_list("names.txt"))


@cache
def name_words() -> frozenset[str]:
    """Names that are also English words ("Lee", "Swift"): masked only next to a name."""
    return frozenset(_word_list("name_words.txt"))


@cache
def words() -> frozenset[str]:
    """Ordinary words, lower case (`words.txt`): a capitalised word not among them, nor a
    known name or place, is taken for a name."""
    return frozenset(_word_list("words.txt"))


@cache
def support_words() -> frozenset[str]:
    """Words our customers write in lower case (`support_words.txt`): a capitalised word
    after a name that is none of these is read as part of the name ("Yifei Situ")."""
    return frozenset(_word_list("support_words.txt"))


@cache
def spellings() -> dict[str, str]:
    """British spelling -> American spelling, both lower case."""
    return dict(line.split(" ", 1) for line in _word_list("spelling.txt"))


def _split(word: str) -> tuple[str, str]:
    """A word and what follows it: ("Zhang's" -> "Zhang", "'s"; "Lagos." -> "Lagos", ".")."""
    if word[-1] not in ".s":
        return word, ""
    found = _POSSESSIVE.search(word)
    return (word[:found.start()], found.group(1)) if found else (word, "")


def _name_kind(word: str) -> int:
    """2 for a known name ("Zhang", "Al-Rashid", "O'Brien's") or a capitalised word that is
    no ordinary word and no known place ("Zixuan", "Dae-ho": `_unknown`), 1 for a name that
    is also an English word ("Lee"), 0 for anything else."""
    known = names()
    core = word if word in known else _split(word)[0]
    if core in known:
        return 2
    parts = core.split("-")
    if len(parts) > 1 and any(p in known for p in parts) and all(
            p in known or p in _NAME_PARTICLES or p.capitalize() in known for p in parts):
        return 2
    if core in name_words():
        return 1
    return 2 if _unknown(core) else 0


_NAME_SHAPE = re.compile(r"[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-Za-zÀ-ÿ'’]+)*")


def _unknown(core: str) -> bool:
    """A capitalised word written like a name ("Zixuan", "Dae-ho", "Okwuosa"), not an
    ordinary word in any of its parts and not a known place."""
    if not _NAME_SHAPE.fullmatch(core) or core in places():
        return False
    ordinary = words()
    lower = core.lower().replace("’", "'")
    if lower in ordinary or lower.removesuffix("'s") in ordinary:
        return False
    return any(part not in ordinary for part in lower.split("-") if part)  # "Follow-up" stays


def _places_in(words: list[str]) -> list[str]:
    """Replace the longest known place names in a run of capitalised words."""
    known = places()
    out: list[str] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            candidate, suffix = _split(" ".join(words[i:j]))
            if candidate in known:
                out.append("[place]" + suffix)
                i = j
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _rest_of_name(word: str) -> bool:
    """A capitalised word that may follow a name as its last part: written like a name, no
    known place, and no word our customers write in lower case ("Situ", not "Refund")."""
    core = _split(word)[0]
    return (_NAME_SHAPE.fullmatch(core) is not None and core not in places()
            and core.lower() not in support_words())


def _name_end(words: list[str], i: int) -> tuple[int, bool]:
    """Where the run of names starting at `i` ends (it ends with its sentence), and whether
    it holds a known name that is not also an English word."""
    j, sure = i, False
    while j < len(words):
        kind = _name_kind(words[j])
        if not kind and sure and _rest_of_name(words[j]):
            kind = 1
        if not kind and not (j > i and words[j] in _NAME_JOINERS and j + 1 < len(words)
                             and _name_kind(words[j + 1])):
            break
        sure = sure or kind == 2
        j += 1
        if words[j - 1].endswith("."):
            break
    return j, sure


def _names_in(words: list[str], opens_sentence: bool) -> list[str]:
    """Replace each run of names holding a known name with one `[name]`; a lone name that
    opens a sentence stays."""
    out: list[str] = []
    i = 0
    while i < len(words):
        j, sure = _name_end(words, i)
        starts = opens_sentence if i == 0 else words[i - 1][-1] in ".!?:"
        if not sure or (j - i == 1 and starts):
            out.append(words[i])
            i += 1
            continue
        out.append("[name]" + _split(words[j - 1])[1])
        i = j
    return out


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` opens the text, a line, a sentence or a quotation."""
    k = start
    while k > 0 and text[k - 1] in " \t\r\f\v":
        k -= 1
    return k == 0 or text[k - 1] in ".!?:;\n\"“(]"


def _mask_run(match: re.Match[str]) -> str:
    """Within one run of capitalised words, replace known place names, then known names
    (a run made only of names is one name, even where a word of it is also a place)."""
    run = match.group(0)
    if " " not in run and "\t" not in run:  # most runs are one word
        core, suffix = _split(run)
        if core in places():
            return "[place]" + suffix
        if _name_kind(run) == 2 and not _opens_sentence(match.string, match.start()):
            return "[name]" + suffix
        return run
    words = run.split()
    whole, suffix = _split(" ".join(words))
    if whole in places():
        return "[place]" + suffix
    if not all(_name_kind(w) or w in _NAME_JOINERS for w in words):  # "Nguyen Thi Mai"
        words = _places_in(words)
    return " ".join(_names_in(words, _opens_sentence(match.string, match.start())))


# Cheap tests before the (slower) expressions: a text holding none of an expression's
# required words cannot match it. Case-insensitive parts are tested on the lower-cased text;
# the four letters that match ASCII letters only under IGNORECASE (İ ı ſ K) turn the tests
# off for that text. A test checks the two ways agree.
_NEEDS_INTRO = ("this is", "name")
_NEEDS_INLINE_SIGNOFF = tuple(f"{w}," for w in (
    "thanks", "you", "again", "regards", "wishes", "best", "cheers", "sincerely", "faithfully",
    "truly", "thx", "ta", "respectfully"))
_NEEDS_PLACE = ("from", "based in", "here in", "live in", "living in", "located in", "m in")
_NEEDS_TITLE = ("Mr", "Ms", "Miss", "Mx", "Dr")
_FOLDS = frozenset("İıſK")


def _any(needles: tuple[str, ...], haystack: str) -> bool:
    return any(n in haystack for n in needles)


def mask_identity(text: str) -> str:
    """Replace names and places (introductions, sign-offs, stated places, person cues, known
    names and known place names) with placeholders."""
    lower = text.lower()
    every = not _FOLDS.isdisjoint(text)
    if every or _any(_NEEDS_INTRO, lower):
        text = _INTRO.sub(lambda m: m.group(1) + "[name]", text)
    if "here" in text:
        text = _HERE.sub(lambda m: m.group(1) + "[name]" + m.group(3), text)
    if "\n" in text:
        text = _SIGNOFF.sub(lambda m: m.group(1) + "[name]" + (
            "\n[signature]" if m.group(3).strip() else ""), text)
    if every or _any(_NEEDS_INLINE_SIGNOFF, lower):
        text = _INLINE_SIGNOFF.sub(lambda m: m.group(1) + "[name]" + m.group(3), text)
    if "\n" in text:
        text = _DASH_SIGNOFF.sub(lambda m: m.group(1) + "[name]", text)
    if "(" in text:
        text = _PAREN_NAME.sub("([name])", text)
    if every or _any(_NEEDS_PLACE, lower):
        text = _PLACE.sub(lambda m: m.group(1) + m.group(2) + "[place]", text)
    if every or _any(_CUE_WORDS, text.lower()):
        text = _PERSON_CUE.sub(lambda m: m.group(1) + "[name]", text)
    if _any(_NEEDS_TITLE, text):
        text = _TITLE.sub("[name]", text)
    return _TITLE_RUN.sub(_mask_run, text)


def _respell(match: re.Match[str]) -> str:
    word = match.group(0)
    us = spellings().get(word.lower())
    if us is None:
        return word
    if word.isupper() and len(word) > 1:
        return us.upper()
    return us.capitalize() if word[0].isupper() else us


def normalise_spelling(text: str) -> str:
    """British spellings replaced by American ones, keeping each word's case."""
    if spellings().keys().isdisjoint(_LOWER_WORD.findall(text.lower())):
        return text
    return _SPELT.sub(_respell, text)


def _standard(match: re.Match[str]) -> str:
    word = match.group(0)
    standard = INFORMAL[word.lower().replace("’", "'")]
    if word.isupper() and len(word) > 1:
        return standard.upper()
    return standard[0].upper() + standard[1:] if word[0].isupper() else standard


def normalise_informal(text: str) -> str:
    """Informal and dialect forms (`INFORMAL`) replaced by their standard forms, keeping
    the first letter's case ("Gonna" -> "Going to", "AIN'T" -> "ISN'T")."""
    if _INFORMAL_FIRST.isdisjoint(_LOWER_WORD.findall(text.lower())):
        return text
    return _INFORMAL.sub(_standard, text)


def prepare(text: str, max_chars: int = 20_000) -> str:
    """The text the model reads: unescaped, de-quoted, identity-masked, one spelling and
    register, whitespace normalised, capped."""
    text = html.unescape(text)
    text = strip_quoted(text)
    text = normalise_informal(normalise_spelling(mask_identity(text)))
    text = _WS.sub(" ", text)
    text = _BLANKS.sub("\n\n", text)
    return cap(text.strip(), max_chars)
