#!/usr/bin/env bash
# `make bench`: builds (once) a PostgreSQL database of BENCH_CLIENTS clients and times the pages
# and the nightly job on it. Figures go to stdout; paste them in the issue note.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_CLIENTS:=1000000}"
: "${BENCH_DB:=cartera_bench_${BENCH_CLIENTS}}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${BENCH_DB}"
export DEBUG=false SECRET_KEY=bench-only-not-secret-bench-only-not-secret-bench-only-not-secret
export ALLOWED_HOSTS=testserver SECURE_SSL_REDIRECT=false SECURE_COOKIES=false LOG_LEVEL=WARNING
PY=.venv/bin/python

if ! psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw "$BENCH_DB"; then
  createdb -h 127.0.0.1 -U postgres "$BENCH_DB"
fi
$PY manage.py migrate --no-input -v0
$PY manage.py collectstatic --no-input -v0  # DEBUG is off: pages use the hashed static manifest
have=$(psql -h 127.0.0.1 -U postgres -d "$BENCH_DB" -tAc "SELECT count(*) FROM clients_client")
if [ "$have" -lt "$BENCH_CLIENTS" ]; then
  if [ "$have" -gt 0 ]; then
    dropdb -h 127.0.0.1 -U postgres "$BENCH_DB" && createdb -h 127.0.0.1 -U postgres "$BENCH_DB"
    $PY manage.py migrate --no-input -v0
  fi
  echo "== seed_demo --clients $BENCH_CLIENTS"
  $PY manage.py seed_demo --clients "$BENCH_CLIENTS" | grep -vE "^\s+(comercial|gerente|admin)"
fi
echo "== pages"
PYTHONPATH=. $PY bench/pages.py
if [ -f bench/recompute.py ]; then
  echo "== nightly recompute"
  PYTHONPATH=. $PY bench/recompute.py
fi
echo "== imports"
PYTHONPATH=. $PY bench/imports.py
