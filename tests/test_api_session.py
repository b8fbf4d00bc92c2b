"""`scripts/api_session.py`: the README's curl session, run for real, written into docs/api.md."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import api_session


def test_api_session_runs_the_readme_session_on_a_real_model(tiny_model_dir: Path) -> None:
    text = api_session.run_session(tiny_model_dir)
    assert text.count("```console") == 9 and text.count("```") == 18
    for expected in ('"case_number": "CS-2026-000001"', "\n200\n", '"holder": "alice"',
                     '"status": "resolved"', '"action":"resolved"', "exported 1 labelled",
                     '"reason":"language:fr"', '"error_type":"ValidationError"'):
        assert expected in text, expected
    assert api_session.KEY in text and not re.search(r"trg_[A-Za-z0-9_-]{8,}", text)
    assert text == api_session.run_session(tiny_model_dir)  # a fixed clock: same text


def test_api_session_replaces_only_the_marked_block() -> None:
    doc = f"before\n{api_session.START}\nold\n{api_session.END}\nafter\n"
    new = api_session.replace_block(doc, "BLOCK", lambda: "intro")
    assert new == f"before\n{api_session.START}\nintro\n\nBLOCK\n{api_session.END}\nafter\n"
    with pytest.raises(SystemExit):
        api_session.replace_block("no markers", "BLOCK", lambda: "intro")
    assert api_session.START in api_session.DOC.read_text(encoding="utf-8")
