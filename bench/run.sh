#!/usr/bin/env bash
# `make bench`: builds (once) a PostgreSQL database of BENCH_CLIENTS clients and times the pages
# and the nightly job on it. Figures go to stdout; paste them in the issue note.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_CLIENTS:=1000000}"
: "${BENCH_DB:=cartera_bench_${BENCH_CLIENTS}}"
export ALLOWED_HOSTS=testserver
source bench/database.sh
seeded_database "$BENCH_DB" "$BENCH_CLIENTS"
echo "== pages"
PYTHONPATH=. $PY bench/pages.py
if [ -f bench/recompute.py ]; then
  echo "== nightly recompute"
  PYTHONPATH=. $PY bench/recompute.py
fi
echo "== imports"
PYTHONPATH=. $PY bench/imports.py
