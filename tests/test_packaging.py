"""What an installed wheel holds: every data file the package reads is named by the
package-data patterns of pyproject.toml (an editable install reads the source tree, so a
file missing from the patterns works here and fails only in the Docker image)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "triage"


def _matches(rel: str, pattern: str) -> bool:
    """Glob semantics as setuptools applies them: `*` stays inside one folder."""
    parts, wanted = rel.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch, parts, wanted))


def _shipped(rel: str, patterns: list[str]) -> bool:
    if any(_matches(rel, p) for p in patterns):
        return True
    return rel.endswith(".py")  # packages.find in pyproject finds namespace packages too


def test_packaging_every_package_file_ships_in_the_wheel() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["triage"]
    files = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    assert any(f.startswith("data/") for f in files)
    missing = [f for f in files if not _shipped(f, patterns)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_packaging_pattern_check_catches_a_missing_file() -> None:
    assert _shipped("data/words.txt", ["data/*.txt"])
    assert not _shipped("data/words.txt", ["data/places.txt", "data/names.txt"])
    assert not _shipped("data/sub/x.txt", ["data/*.txt"])
    assert _shipped("api/static/page.js", ["api/static/*"])
    assert not _shipped("store/migrations/script.py.mako", ["store/migrations/*.py"])
