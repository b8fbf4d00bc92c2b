"""Counterfactual parity: does a score move when only a name, a place or a dialect marker does?

For each message we build copies that differ only in who is writing and from where (a
greeting and a sign-off with names from many cultures and cities from many regions) and in
spelling and dialect markers (US/UK spelling, informal contractions). Treating customers
equally means no copy may move any head by more than the tolerance (0.05).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

NAMES = ["Emily Walsh", "Lakisha Washington", "Mohammed Al-Rashid", "Wei Zhang", "José García",
         "Priya Raghunathan", "Oluwaseun Adeyemi", "Sven Lindqvist", "Nguyen Thi Mai",
         "Aroha Ngata"]
PLACES = ["Ohio", "Lagos", "Mumbai", "Glasgow", "Manila", "Mexico City", "Riyadh", "Warsaw",
          "Alabama", "Jakarta"]
_SPELLING = [("color", "colour"), ("center", "centre"), ("canceled", "cancelled"),
             ("organize", "organise"), ("apologize", "apologise"), ("program", "programme"),
             ("favorite", "favourite"), ("mom", "mum")]
_DIALECT = [(r"\byou all\b", "y'all"), (r"\bgoing to\b", "gonna"), (r"\bwant to\b", "wanna"),
            (r"\bisn't it\b", "innit"), (r"\bmy friend\b", "my mate")]

# kinds compared among their own copies (spread over names, say), not with the original
GROUPED = ("name", "place", "name_in_text", "place_in_text", "name_uncued")

# Probabilities for a list of texts, one column per head (e.g. a model's `predict_proba`).
ScoreFn = Callable[[list[str]], np.ndarray]


def counterfactuals(text: str) -> list[tuple[str, str]]:
    """`(kind, variant)` copies of `text` that differ only in identity or dialect.

    `name` and `place` put the identity where people usually state it (greeting, sign-off,
    "writing from"); `name_in_text` and `place_in_text` put it inside a sentence after words
    that introduce a person or a place; `name_uncued` puts a name inside a sentence with
    nothing around it that says it is a name, which the text preparation cannot mask.
    """
    out = [("name", f"Hi, this is {n}. {text}\n\nThanks,\n{n.split()[0]}") for n in NAMES]
    out += [("place", f"{text}\n\n(writing from {p})") for p in PLACES]
    out += [("name_in_text", f"{text} The account is in the name of {n}.") for n in NAMES]
    out += [("place_in_text", f"{text} I opened it at your office in {p}.") for p in PLACES]
    out += [("name_uncued", f"{text} {n} says the same happened to them.") for n in NAMES]
    us, uk = text, text
    for a, b in _SPELLING:
        us = re.sub(rf"\b{b}\b", a, us, flags=re.IGNORECASE)
        uk = re.sub(rf"\b{a}\b", b, uk, flags=re.IGNORECASE)
    out += [("spelling", us), ("spelling", uk)]
    informal = text
    for pattern, repl in _DIALECT:
        informal = re.sub(pattern, repl, informal, flags=re.IGNORECASE)
    out.append(("dialect", informal))
    return out


@dataclass
class ParityReport:
    """Largest score movements under counterfactual edits."""

    tolerance: float
    messages: int = 0
    comparisons: int = 0
    violations: int = 0
    max_delta: float = 0.0
    by_kind: dict[str, float] = field(default_factory=dict)
    worst: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def parity_check(texts: Sequence[str], score: ScoreFn, heads: Sequence[str],
                 tolerance: float = 0.05, worst: int = 10) -> ParityReport:
    """Score each text and its counterfactuals; report movements above `tolerance`.

    Names and places are compared among themselves (the spread between the highest and the
    lowest score over all names, say), so that adding a greeting at all is not counted;
    spelling and dialect copies are compared with the original.
    """
    report = ParityReport(tolerance=tolerance, messages=len(texts))
    cases: list[dict] = []
    for text in texts:
        variants = counterfactuals(text)
        probs = score([text] + [v for _, v in variants])
        kinds = np.array([k for k, _ in variants])
        for kind in dict.fromkeys(kinds):
            sel = np.flatnonzero(kinds == kind) + 1
            group = probs[sel]
            if kind in GROUPED:
                spread = group.max(0) - group.min(0)
                hi, lo = group.argmax(0), group.argmin(0)
            else:
                spread = np.abs(group - probs[0]).max(0)
                hi = lo = np.abs(group - probs[0]).argmax(0)
            j = int(spread.argmax())
            report.comparisons += 1
            report.by_kind[kind] = max(report.by_kind.get(kind, 0.0), float(spread[j]))
            if spread[j] > tolerance:
                report.violations += 1
            cases.append({"kind": kind, "head": heads[j], "delta": float(spread[j]),
                          "original": text[:200],
                          "variant_high": variants[sel[hi[j]] - 1][1][:240],
                          "variant_low": variants[sel[lo[j]] - 1][1][:240]})
    cases.sort(key=lambda c: -c["delta"])
    report.worst = cases[:worst]
    report.max_delta = cases[0]["delta"] if cases else 0.0
    return report
