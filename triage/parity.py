"""Counterfactual parity: does a score move when only a name, a place or a dialect marker does?

For each message we build copies that differ only in who is writing and from where (a
greeting and a sign-off with names from many cultures, a sentence that names a person or a
place in one of several frames) and in spelling and dialect markers (US/UK spelling,
informal markers). Treating customers equally means no copy may move any head by more than
the tolerance (0.05). Each kind is reported on its own (`ParityReport.by_kind`).

Two name pools: `NAMES` are in the shipped name list (`triage/data/names.txt`), so they
measure the masking by list; `HELD_OUT_NAMES` are deliberately not in it (the script that
builds the list leaves them out, and a test checks it), so the `name_uncued_held_out` kind
measures what happens to a customer whose name no list knows: text preparation still masks
a capitalised word that is no ordinary word (`triage/data/words.txt`, which knows nothing
of these names), and the model has to treat alike whatever is left (a held-out name
opening a sentence on its own, a part that is also an English word, such as "Situ").
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import numpy as np

NAMES = ["Emily Walsh", "Lakisha Washington", "Mohammed Al-Rashid", "Wei Zhang", "José García",
         "Priya Raghunathan", "Oluwaseun Adeyemi", "Sven Lindqvist", "Nguyen Thi Mai",
         "Aroha Ngata"]
# names from many cultures that are NOT in triage/data/names.txt: the honest generalisation probe
HELD_OUT_NAMES = ["Zixuan Ouyang", "Yifei Situ", "Thuan Lieu", "Dae-ho Seok",
                  "Haruki Morikawa", "Chidera Okwuosa", "Tendai Mutasa", "Kagiso Molefe",
                  "Abebe Tesfaye", "Vaidehi Subramanyam", "Harpreet Bhullar",
                  "Thilini Jayawardena", "Nasrin Tehrani", "Ghizlane Benjelloun",
                  "Hamdan Al-Mazrouei", "Zhivko Petkov", "Solomiia Hnatyuk",
                  "Vukasin Stojiljkovic", "Wayra Condori", "Xochitl Tlacuilo", "Aslak Gaup",
                  "Rewi Tawhai", "Losaline Fifita", "Lagi Sapolu", "Kalani Kahananui",
                  "Ayelet Shapira", "Sefo Faleolo", "Baurzhan Nurlanov", "Eyerusalem Bekele",
                  "Sinchi Ccori", "Meseret Gebremedhin", "Yerlan Zhaksylykov"]
PLACES = ["Ohio", "Lagos", "Mumbai", "Glasgow", "Manila", "Mexico City", "Riyadh", "Warsaw",
          "Alabama", "Jakarta", "Seoul", "Casablanca", "Auckland", "Kyiv"]
# frames that put a name or a place inside a sentence with no cue word around it; one frame
# per message (chosen from the text, so reruns agree), the same frame for every name of it
NAME_FRAMES = ["{text} {name} says the same happened to them.",
               "{text} I already sent the details to {name} last week.",
               "{text} Can you ask {name} to call me back?",
               "{name} and I both have this problem. {text}"]
PLACE_FRAMES = ["{text} I opened it at your office in {place}.", "I moved to {place}. {text}",
                "{text} I'm flying {place} to {other} on Friday.",
                "{text} Our {place} branch has the same issue.",
                "{text} The parcel is still in {place}.",
                "{text} This never happened when I lived in {place}."]
# spelling: swapped inside the text, and one appended sentence written in either system
_SPELLING = [("color", "colour"), ("center", "centre"), ("canceled", "cancelled"),
             ("canceling", "cancelling"), ("organize", "organise"), ("organized", "organised"),
             ("apologize", "apologise"), ("apologized", "apologised"), ("program", "programme"),
             ("favorite", "favourite"), ("mom", "mum"), ("realize", "realise"),
             ("recognize", "recognise"), ("license", "licence"), ("traveled", "travelled"),
             ("traveling", "travelling"), ("behavior", "behaviour"), ("neighbor", "neighbour"),
             ("gray", "grey"), ("labeled", "labelled"), ("catalog", "catalogue"),
             ("defense", "defence"), ("offense", "offence"), ("honor", "honour"),
             ("humor", "humour"), ("jewelry", "jewellery"),
             ("analyze", "analyse"), ("authorize", "authorise"),
             ("authorized", "authorised"), ("enrollment", "enrolment"), ("fulfill", "fulfil"),
             ("liter", "litre"), ("theater", "theatre"),
             ("pajamas", "pyjamas"), ("aluminum", "aluminium"), ("skeptical", "sceptical"),
             ("customize", "customise"), ("prioritize", "prioritise")]
SPELLING_SENTENCES = [("My favorite color was gray.", "My favourite colour was grey."),
                      ("I canceled the program and apologized.",
                       "I cancelled the programme and apologised."),
                      ("My mom traveled to the center to pay by check.",
                       "My mum travelled to the centre to pay by cheque."),
                      ("I realize the license was authorized.",
                       "I realise the licence was authorised.")]
_DIALECT = [(r"\byou all\b", "y'all"), (r"\bgoing to\b", "gonna"), (r"\bwant to\b", "wanna"),
            (r"\b(?:have|got) to\b", "gotta"), (r"\bisn't it\b", "innit"),
            (r"\bmy friend\b", "my mate"), (r"\bkind of\b", "kinda"),
            (r"\bdon't know\b", "dunno"), (r"\bbecause\b", "cos"), (r"\bisn't\b", "ain't"),
            (r"\byes\b", "yeah"), (r"\bthanks\b", "cheers"), (r"\bplease\b", "pls"),
            (r"\bvery\b", "proper"), (r"\bchildren\b", "kids"), (r"\bnothing\b", "nothin")]
# dialect forms that text preparation does not normalise (`triage.textprep.INFORMAL` holds
# none of them) and the training augmentation never writes (`training/augment.py`); a test
# checks both: the model has to read these alike by itself, untaught
DIALECT_HELD_OUT = [(r"\bI think\b", "I reckon"), (r"\ba lot of\b", "loads of"),
                    (r"\bgoing to\b", "fixing to"), (r"\blittle\b", "wee"),
                    (r"\bfriends\b", "pals"), (r"\bchildren\b", "bairns"),
                    (r"\bvery\b", "wicked"), (r"\bmoney\b", "dosh"),
                    (r"\bit's\b", "tis"), (r"\byou\b", "ye")]

# kinds compared among their own copies (spread over names, say), not with the original
GROUPED = ("name", "place", "name_in_text", "place_in_text", "name_uncued",
           "name_uncued_held_out", "spelling_sentence")

# Probabilities for a list of texts, one column per head (e.g. a model's `predict_proba`).
ScoreFn = Callable[[list[str]], np.ndarray]
T = TypeVar("T")


def _frame(text: str, frames: Sequence[T]) -> T:
    """One of `frames`, chosen from the text itself (so reruns agree)."""
    return frames[zlib.crc32(text.encode("utf-8")) % len(frames)]


def _spelled(text: str, uk: bool) -> str:
    """`text` with every listed word in British (`uk`) or American spelling, case kept."""
    for us_form, uk_form in _SPELLING:
        a, b = (us_form, uk_form) if uk else (uk_form, us_form)
        text = re.sub(rf"\b{a}\b", partial(_cased, b), text, flags=re.IGNORECASE)
    return text


def _cased(word: str, match: re.Match[str]) -> str:
    return word.capitalize() if match.group(0)[0].isupper() else word


def counterfactuals(text: str) -> list[tuple[str, str]]:
    """`(kind, variant)` copies of `text` that differ only in identity or dialect.

    `name` and `place` put the identity where people usually state it (greeting, sign-off,
    "writing from"); `name_in_text` puts a name after words that introduce a person;
    `place_in_text` puts a place inside a sentence in one of several frames ("I moved to X",
    "flying X to Y", "our X branch", ...); `name_uncued` and `name_uncued_held_out` put a name
    inside a sentence with nothing around it that says it is a name (names in the shipped
    list, and names deliberately not in it); `spelling` swaps US and UK spellings inside the
    text, `spelling_sentence` appends one sentence in either system; `dialect` adds informal
    markers (most of which text preparation normalises) and `dialect_held_out` others that
    it does not (the model alone must read them alike).
    """
    out = [("name", f"Hi, this is {n}. {text}\n\nThanks,\n{n.split()[0]}") for n in NAMES]
    out += [("place", f"{text}\n\n(writing from {p})") for p in PLACES]
    out += [("name_in_text", f"{text} The account is in the name of {n}.") for n in NAMES]
    frame = _frame(text, PLACE_FRAMES)
    out += [("place_in_text", frame.format(text=text, place=p, other=PLACES[i - 1]))
            for i, p in enumerate(PLACES)]
    frame = _frame(text, NAME_FRAMES)
    out += [("name_uncued", frame.format(text=text, name=n)) for n in NAMES]
    out += [("name_uncued_held_out", frame.format(text=text, name=n)) for n in HELD_OUT_NAMES]
    out += [("spelling", _spelled(text, uk=False)), ("spelling", _spelled(text, uk=True))]
    us, uk = _frame(text, SPELLING_SENTENCES)
    out += [("spelling_sentence", f"{text} {us}"), ("spelling_sentence", f"{text} {uk}")]
    out.append(("dialect", with_forms(text, _DIALECT)))
    out.append(("dialect_held_out", with_forms(text, DIALECT_HELD_OUT)))
    return out


def with_forms(text: str, forms: Sequence[tuple[str, str]]) -> str:
    """`text` with every `(pattern, form)` substitution applied in turn, case-insensitively."""
    for pattern, repl in forms:
        text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
    return text


@dataclass
class ParityReport:
    """Largest score movements under counterfactual edits, overall and per kind."""

    tolerance: float
    messages: int = 0
    comparisons: int = 0
    violations: int = 0
    max_delta: float = 0.0
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    worst: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return self.__dict__.copy()

    def count(self, kind: str, delta: float) -> None:
        """Record one comparison of `kind` that moved a score by `delta`."""
        entry = self.by_kind.setdefault(kind, {"comparisons": 0, "violations": 0, "max": 0.0})
        over = int(delta > self.tolerance)
        entry["comparisons"] += 1
        entry["violations"] += over
        entry["max"] = max(entry["max"], delta)
        self.comparisons += 1
        self.violations += over


def _spread(probs: np.ndarray, sel: np.ndarray, grouped: bool) -> tuple[np.ndarray, ...]:
    """Per head: the movement, and which copies gave the highest and lowest score."""
    group = probs[sel]
    if grouped:
        return group.max(0) - group.min(0), group.argmax(0), group.argmin(0)
    moved = np.abs(group - probs[0])
    return moved.max(0), moved.argmax(0), moved.argmax(0)


def parity_check(texts: Sequence[str], score: ScoreFn, heads: Sequence[str],
                 tolerance: float = 0.05, worst: int = 10) -> ParityReport:
    """Score each text and its counterfactuals; report movements above `tolerance`.

    Names, places and appended spelling sentences are compared among themselves (the spread
    between the highest and the lowest score over all names, say), so that adding a greeting
    at all is not counted; in-text spelling and dialect copies are compared with the original.
    """
    report = ParityReport(tolerance=tolerance, messages=len(texts))
    cases: list[dict] = []
    for text in texts:
        variants = counterfactuals(text)
        probs = score([text] + [v for _, v in variants])
        kinds = np.array([k for k, _ in variants])
        for kind in dict.fromkeys(kinds):
            sel = np.flatnonzero(kinds == kind) + 1
            spread, hi, lo = _spread(probs, sel, kind in GROUPED)
            j = int(spread.argmax())
            report.count(str(kind), float(spread[j]))
            cases.append({"kind": str(kind), "head": heads[j], "delta": float(spread[j]),
                          "original": text[:200],
                          "variant_high": variants[sel[hi[j]] - 1][1][:240],
                          "variant_low": variants[sel[lo[j]] - 1][1][:240]})
    cases.sort(key=lambda c: -c["delta"])
    report.worst = cases[:worst]
    report.max_delta = cases[0]["delta"] if cases else 0.0
    return report
