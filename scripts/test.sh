#!/usr/bin/env bash
# Set up and run the whole test suite (fast and slow tests, SQLite and PostgreSQL, Ray).
set -euo pipefail
cd "$(dirname "$0")/.."
TRIAGE_EXTRAS="train,dev,ray,otel" bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
# PostgreSQL at 127.0.0.1:5432 backs the store tests; start it if it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
# The queue page is tested in a real headless Chromium (Debian's package; Playwright drives
# it, never downloading a browser of its own).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    >/dev/null 2>&1 || echo "warning: could not install chromium; the browser test will skip" >&2
fi
exec python -m pytest "$@"
