#!/usr/bin/env bash
# Set up and run the service on the embedded defaults: a SQLite file and the default model
# under ~/.local/share/triage (built from data/samples on first run, a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
exec triage serve "$@"
