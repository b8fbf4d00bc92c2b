"""Does "you" read as blame? The same sentences with the company as "You", "They", "The
bank" and "We", scored for frustration.

    python bench/second_person.py --model DIR [--model DIR ...]

Ten calm sentences (the company did something, nothing went wrong: a question, a
confirmation, thanks follow) and two complaints. A model that reads the second person as
blame scores the calm "You ..." sentences far above the same sentences with another
subject; a model that reads what was done scores them alike, and still scores the
complaints high. Written for this probe (2026-12-02); two of the calm sentences were also
shown, as examples of the kind, to the people who wrote `data/samples/parts/22-24`, so this
is a small check of the kind, not a held-out evaluation (the parity check in `triage eval`
is that).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import argparse
import json
from collections.abc import Callable, Sequence

import numpy as np

SUBJECTS = ("You", "They", "The bank", "We")
CALM = ["{} sent me a new PIN last week, how do I change it?",
        "{} emailed me a verification code but I closed the tab. Can I get another?",
        "{} told me to restart the router. Done that, what's next?",
        "{} gave me a voucher at checkout, where do I enter it?",
        "{} asked me for a photo of my ID, I've attached it now.",
        "{} called me yesterday about my renewal, I'm happy to go ahead.",
        "{} set up my direct debit for the 5th, can it move to the 10th?",
        "{} shipped the parcel on Monday, when should it arrive?",
        "{} upgraded my plan last month and it's working great.",
        "{} sent me a card and I want to add it to my wallet app"]
COMPLAINTS = ["{} charged me twice for the same order.", "{} lost my parcel and nobody answers."]


def probe(score: Callable[[list[str]], np.ndarray], head: int = 0,
          subjects: Sequence[str] = SUBJECTS) -> dict:
    """Mean `head` probability of the calm sentences per subject, the calm "You" minus the
    mean of the other subjects (`you_gap`), and the complaints' mean with "You"."""
    calm = {s: float(np.asarray(score([c.format(s) for c in CALM]))[:, head].mean())
            for s in subjects}
    others = [v for s, v in calm.items() if s != subjects[0]]
    complaints = float(np.asarray(score([c.format(subjects[0]) for c in COMPLAINTS]))[:, head].mean())
    return {"calm": {s: round(v, 3) for s, v in calm.items()},
            "you_gap": round(calm[subjects[0]] - float(np.mean(others)), 3),
            "complaints_you": round(complaints, 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, action="append", required=True)
    args = p.parse_args()
    from triage.models.runtime import ScoringModel

    out = []
    for path in args.model:
        model = ScoringModel(path)
        head = list(model.manifest.heads).index("frustration")
        out.append({"model": model.manifest.version, **probe(model.predict_proba, head)})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
