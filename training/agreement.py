"""Label agreement: a second, independent labelling of a sample of our messages, compared
with the labels they were written with (Cohen's kappa per head).

    python -m training.agreement data/samples/parts second-pass.jsonl

`second-pass.jsonl` holds `{"id", <head>: 0|1|null, ...}` lines written by someone who did
not see the original labels. Rows either side leaves empty are left out of that head.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from training.data import load_rows


@dataclass(frozen=True)
class HeadAgreement:
    """How two labellings of one head agree."""

    head: str
    rows: int
    agreement: float
    kappa: float
    first_positive: int
    second_positive: int
    disagreements: list[str]

    def line(self) -> str:
        return (f"| {self.head} | {self.rows} | {self.agreement:.1%} | {self.kappa:.2f} | "
                f"{self.first_positive} | {self.second_positive} |")


def agreement(first: dict[str, dict[str, int | None]],
              second: dict[str, dict[str, int | None]], heads: list[str]) -> list[HeadAgreement]:
    """Per head, over the ids both labelled: raw agreement, Cohen's kappa and the ids that differ."""
    out = []
    for head in heads:
        pairs = [(i, first[i][head], second[i].get(head)) for i in second
                 if i in first and first[i].get(head) is not None
                 and second[i].get(head) is not None]
        a = [int(x) for _, x, _ in pairs]
        b = [int(y) for _, _, y in pairs]
        same = sum(x == y for x, y in zip(a, b, strict=True))
        kappa = float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else 1.0
        out.append(HeadAgreement(head, len(pairs), same / max(len(pairs), 1), kappa, sum(a),
                                 sum(b), [i for i, x, y in pairs if x != y]))
    return out


def main(samples: str, second_pass: str) -> None:
    rows = load_rows(Path(samples))
    heads = list(dict.fromkeys(h for r in rows for h in r.labels))
    first = {str(r.id): dict(r.labels) for r in rows}
    with open(second_pass, encoding="utf-8") as handle:
        second = {str(d["id"]): d for d in map(json.loads, handle) if d}
    print("| head | rows | agreement | Cohen's kappa | positives (writers) | positives (second pass) |")
    print("|---|---|---|---|---|---|")
    for result in agreement(first, second, heads):
        print(result.line())


if __name__ == "__main__":
    main(*sys.argv[1:3])
