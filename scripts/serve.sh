#!/usr/bin/env bash
# Set up and run the service on the embedded defaults: a SQLite file and the default model
# under ~/.local/share/triage (built from data/samples on first run while the server
# already answers: about 10 min on 2 idle cores, far longer on busy ones; see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
exec triage serve "$@"
