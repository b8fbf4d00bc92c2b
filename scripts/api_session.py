"""Run the README's curl session against the current model and write its real outputs into
docs/api.md (between the `session:start` and `session:end` markers), so the docs never show
scores or explanations from another model.

    TRIAGE_MODEL_DIR=~/.local/share/triage/model python scripts/api_session.py
    python scripts/api_session.py --check     # exit 1 if docs/api.md is not what it writes

The session runs in-process (the real app, the real model, a fresh SQLite file) on a fixed
clock, so two runs with the same model give the same text; keys are replaced by a
placeholder. `tests/test_api_session.py` runs it on the tiny fixture model.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"
START, END = "<!-- session:start -->", "<!-- session:end -->"
KEY = "trg_...the key it printed..."

ANGRY = ("This is the third time I am writing. Your app charged me twice and nobody answers. "
         "After eight years with you I am ready to cancel.")
CALM = "Hi! How do I change the delivery address for my next order? Thanks."
OUTAGE = ("URGENT: our whole shop is down since 9am, checkout fails for every customer. "
          "We are losing sales right now.")
FRENCH = "Bonjour, ma commande n est jamais arrivée et personne ne me répond."
TICKETS = [
    {"text": ANGRY, "channel": "email", "external_id": "zd-4711",
     "customer": {"customer_id": "c-42", "customer_since": "2018-03-01", "tier": "gold"}},
    {"text": CALM, "channel": "chat",
     "customer": {"customer_id": "c-7", "customer_since": "2026-11-01"}},
    {"text": OUTAGE, "channel": "phone", "customer": {"customer_id": "c-9", "tier": "platinum"}},
]


class Clock:
    """The session's time: starts at 14:00 UTC on a fixed day, moved by the script."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def run_session(model_dir: Path | None = None) -> str:
    """The session as markdown: each request as a console line, its output as it came."""
    from fastapi.testclient import TestClient

    from triage.api import create_app
    from triage.keys import create_key
    from triage.settings import Settings

    clock = Clock()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), sweep_seconds=0, model_dir=model_dir)
        with TestClient(create_app(settings, clock=clock)) as client:
            db = client.app.state.service.db  # type: ignore[attr-defined]
            key, described = create_key(db, "alice", "agent")
            client.headers["Authorization"] = f"Bearer {key}"
            return "\n".join(_steps(client, clock, described, db))


def _steps(client: Any, clock: Clock, described: dict[str, Any], db: Any) -> list[str]:
    described = {**described, "prefix": KEY[:8], "created_at": clock.now.isoformat()}
    out = [_console(["$ triage keys create --role agent --name alice",
                     "the key below is shown once; store it now (only its hash is kept)",
                     json.dumps({"key": KEY, **described}, ensure_ascii=False),
                     f"$ export KEY={KEY}",
                     ("$ alias api='curl -s -H \"Authorization: Bearer $KEY\" "
                     "-H \"content-type: application/json\"'")]), ""]
    keep = ("case_number", "created", "lane", "scores", "position", "summary")
    titles = ["An angry customer of eight years, by e-mail, with the helpdesk's own ticket id:",
              "A calm new customer, by chat:", ("An urgent outage, on the phone, from a "
              "platinum customer:")]
    numbers = []
    for title, body in zip(titles, TICKETS, strict=True):
        made = client.post("/v1/tickets", json=body).json()
        numbers.append(made["case_number"])
        out += [title, "", _console([f"$ api localhost:8000/v1/tickets -d '{_compact(body)}' \\",
                                     f"  | jq '{{{', '.join(keep)}}}'",
                                     _pretty(_pick(made, keep))]), ""]
    again = client.post("/v1/tickets", json={"text": ANGRY, "external_id": "zd-4711"})
    out += [("The helpdesk's webhook fires again for the first ticket: same external id, same "
            "text, so the same case comes back (200, not 201) and nothing changes:"), "",
            _console(["$ api localhost:8000/v1/tickets -o /dev/null -w '%{http_code}\\n' -d '"
                      + _compact({"text": ANGRY, "external_id": "zd-4711"}) + "'",
                      str(again.status_code)]), ""]
    clock.now += timedelta(minutes=1)
    queue = client.get("/v1/queue").json()
    shown = {"depth": queue["depth"], "entries": [
        _pick(e, ("case_number", "lane", "position", "summary", "explanation"))
        for e in queue["entries"]]}
    out += [("A minute later, the queue (every position is `waiting + boost`; `summary` says "
            "why in an agent's words, `explanation` and `priority.terms` keep the policy's "
            "numbers):"), "",
            _console([("$ api localhost:8000/v1/queue | jq '{depth, entries: [.entries[] | "
                      "{case_number, lane, position, summary, explanation}]}'"),
                      _pretty(shown)]), ""]
    out += _claim_and_resolve(client, queue["entries"][0]["case_number"])
    out += _feedback(client, db, numbers[1])
    out += _errors(client)
    return out


def _claim_and_resolve(client: Any, top: str) -> list[str]:
    claimed = client.post("/v1/queue/claim").json()
    beat = client.post(f"/v1/tickets/{top}/heartbeat").json()
    done = client.post(f"/v1/tickets/{top}/resolve",
                       json={"note": "refunded the double charge"}).json()
    audit = client.get(f"/v1/tickets/{top}").json()["audit"]
    return ["Claim the top ticket (a 5-minute lease; heartbeat to keep it), then resolve it:",
            "", _console([
                "$ api -X POST localhost:8000/v1/queue/claim | jq '{case_number, status, lease}'",
                _pretty(_pick(claimed, ("case_number", "status", "lease"))),
                f"$ api -X POST localhost:8000/v1/tickets/{top}/heartbeat | jq .lease",
                _pretty(beat["lease"]),
                (f"$ api localhost:8000/v1/tickets/{top}/resolve -d "
                "'{\"note\": \"refunded the double charge\"}' \\"),
                "  | jq '{case_number, status, resolved_at}'",
                _pretty(_pick(done, ("case_number", "status", "resolved_at"))),
                f"$ api localhost:8000/v1/tickets/{top} | jq -c '[.audit[] | {{actor, action}}]'",
                _compact([{"actor": a["actor"], "action": a["action"]} for a in audit])]), ""]


def _feedback(client: Any, db: Any, calm: str) -> list[str]:
    import io

    from triage.cases import export_labels

    given = {"labels": {"frustration": 0}, "csat": 5}
    made = client.post(f"/v1/tickets/{calm}/feedback", json=given).json()
    buf = io.StringIO()
    model = client.get("/v1/model").json()["manifest"]
    n = export_labels(db, buf, heads=model["heads"])
    return [("Feedback closes the loop: the agent says the calm message was not frustrated, the "
            "customer gives 5 stars, and `triage export-labels` turns corrections into "
            "training rows:"), "", _console([
                (f"$ api localhost:8000/v1/tickets/{calm}/feedback -d '{_compact(given)}' "
                "| jq -c ."), _compact(made), "$ triage export-labels",
                buf.getvalue().rstrip("\n"), f"exported {n} labelled message(s)"]), ""]


def _errors(client: Any) -> list[str]:
    empty = client.post("/v1/score", json={"text": ""}).json()
    empty = {**empty, "detail": empty.get("detail")}
    french = client.post("/v1/score", json={"text": FRENCH}).json()["results"][0]
    return [("Bad input gets a clear error body, and a message the model cannot read is "
            "flagged, never scored as calm:"), "", _console([
                "$ api localhost:8000/v1/score -d '{\"text\": \"\"}' | jq -c '{error, error_type}'",
                _compact(_pick(empty, ("error", "error_type"))),
                (f"$ api localhost:8000/v1/score -d '{_compact({'text': FRENCH})}' "
                "| jq -c '.results[0]'"), _compact(french)])]


def _pick(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: d.get(k) for k in keys}


def _compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _pretty(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def _console(lines: list[str]) -> str:
    return "\n".join(["```console", *lines, "```"])


def replace_block(doc: str, block: str, intro: Callable[[], str]) -> str:
    """`doc` with the text between the markers replaced by `intro()` and `block`."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(doc):
        raise SystemExit(f"{DOC} has no {START} ... {END} markers")
    return pattern.sub(lambda _: f"{START}\n{intro()}\n\n{block}\n{END}", doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--model", type=Path, help="model directory (default TRIAGE_MODEL_DIR)")
    args = parser.parse_args()
    from triage.assembly import build_scorer
    from triage.settings import Settings

    version = build_scorer(Settings(), model_dir=args.model).version
    block = run_session(args.model)
    doc = DOC.read_text(encoding="utf-8")
    new = replace_block(doc, block, lambda: (
        f"Generated by `python scripts/api_session.py` with model `{version}` (in-process, a "
        "fresh SQLite file, a fixed clock; outputs as they came, trimmed as the `jq` shows):"))
    if args.check:
        return 0 if new == doc else 1
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
