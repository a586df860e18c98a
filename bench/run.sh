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
# The server's settings the figures depend on (README "PostgreSQL at a million clients").
echo "== server: $(psql -h 127.0.0.1 -U postgres -d "$BENCH_DB" -tAc "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'work_mem', 'autovacuum', 'jit', 'wal_compression')"), $(nproc) cores"
echo "== pages"
PYTHONPATH=. $PY bench/pages.py
if [ -f bench/recompute.py ]; then
  echo "== nightly recompute"
  PYTHONPATH=. $PY bench/recompute.py
fi
echo "== full recompute in chunks on Celery worker processes (1, then 2)"
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || $PY -c "import redis; redis.Redis(socket_connect_timeout=1).ping()" 2>/dev/null; then
  REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14} PYTHONPATH=. $PY bench/workers.py
else
  echo "Redis is not running on 127.0.0.1:6379: skipped"
fi
echo "== imports"
PYTHONPATH=. $PY bench/imports.py
echo "== REST API: purchase feeds"
PYTHONPATH=. $PY bench/api.py
