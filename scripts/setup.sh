#!/usr/bin/env bash
# Create .venv and install triage with the extras named in $TRIAGE_EXTRAS (default: train).
# torch is pinned to the CPU build 2.13.0 and installed first: an unpinned torch would pull a
# multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${TRIAGE_EXTRAS:-train}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet "torch==2.13.0"
  python -m pip install --quiet -e ".[${extras}]"
  touch "$stamp"
fi
