#!/usr/bin/env bash
# `make load`: builds (once) a PostgreSQL database of LOAD_CLIENTS clients, serves it with gunicorn
# as production would (DEBUG off, Redis cache) and drives it with LOAD_USERS logged-in users for
# LOAD_SECONDS (locust, bench/locustfile.py). Prints p50/p95/p99 per page and overall; exits
# non-zero if any request failed.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LOAD_CLIENTS:=100000}"
: "${LOAD_DB:=cartera_load_${LOAD_CLIENTS}}"
: "${LOAD_PORT:=8765}"
: "${LOAD_USERS:=20}"
: "${LOAD_SPAWN_RATE:=5}"
: "${LOAD_SECONDS:=60}"
: "${LOAD_WORKERS:=5}"  # gunicorn sync workers: 2 × cores + 1 on the 2-core machines
export ALLOWED_HOSTS=127.0.0.1
export REDIS_URL="${LOAD_REDIS_URL:-redis://127.0.0.1:6379/9}"
source bench/database.sh
seeded_database "$LOAD_DB" "$LOAD_CLIENTS"

out=$(mktemp -d)
gunicorn_pid=""
stop() {
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    kill "$gunicorn_pid" && wait "$gunicorn_pid" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap stop EXIT

if curl -fs -o /dev/null "http://127.0.0.1:${LOAD_PORT}/health/"; then
  echo "Port ${LOAD_PORT} already answers: stop that server or set LOAD_PORT." >&2
  exit 1
fi
echo "== gunicorn: ${LOAD_WORKERS} workers on 127.0.0.1:${LOAD_PORT}, ${LOAD_DB}"
.venv/bin/gunicorn portfolio.wsgi --bind "127.0.0.1:${LOAD_PORT}" --workers "$LOAD_WORKERS" \
  --log-level warning --error-logfile "$out/gunicorn.log" &
gunicorn_pid=$!
for _ in $(seq 1 60); do
  curl -fs -o /dev/null "http://127.0.0.1:${LOAD_PORT}/health/" && break
  kill -0 "$gunicorn_pid" 2>/dev/null || { cat "$out/gunicorn.log" >&2; exit 1; }
  sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:${LOAD_PORT}/health/" || { echo "gunicorn did not answer /health/" >&2; exit 1; }

echo "== locust: ${LOAD_USERS} users (spawn ${LOAD_SPAWN_RATE}/s) for ${LOAD_SECONDS} s"
status=0
LOAD_TIMES="$out/times.tsv" .venv/bin/locust -f bench/locustfile.py --headless -u "$LOAD_USERS" -r "$LOAD_SPAWN_RATE" -t "${LOAD_SECONDS}s" \
  --host "http://127.0.0.1:${LOAD_PORT}" --csv "$out/load" --only-summary --loglevel WARNING \
  --stop-timeout 10 >"$out/locust.log" 2>&1 || status=$?

$PY - "$out/load_stats.csv" "$out/load_failures.csv" "$out/times.tsv" <<'EOF' || status=1
import csv, os, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'request':<32}{'requests':>9}{'failures':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'req/s':>7}")
for row in rows:
    name = "overall" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"[:31]
    if name == "overall":
        print("-" * 81)
    print(f"{name:<32}{int(row['Request Count']):>9}{int(row['Failure Count']):>9}"
          f"{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}{float(row['Requests/s']):>7.1f}")
failures = list(csv.DictReader(open(sys.argv[2])))
for row in failures:
    print(f"FAILED {row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error']}")
total = next((int(r["Failure Count"]) for r in rows if r["Name"] == "Aggregated"), 0)
# Logging in (the form and the POST) apart from the pages: its hashing and lockout checks are no page's time.
login = [r for r in rows if r["Name"] in ("login", "login form")]
pages = [r for r in rows if r["Name"] != "Aggregated" and r not in login]
login_failures = sum(int(r["Failure Count"]) for r in login)
print(f"failures: {total} (login: {login_failures}, pages: {sum(int(r['Failure Count']) for r in pages)})")
# The pages alone, from every request's time (locustfile.py): all of them, then those that ended
# after the last login (the logins' hashing no longer competes for the two cores).
if os.path.exists(sys.argv[3]):
    times = [line.rstrip("\n").split("\t") for line in open(sys.argv[3], encoding="utf-8")]
    logins = [float(ended) for ended, name, _ms in times if name in ("login", "login form")]
    def line(label, durations):
        durations = sorted(durations)
        if not durations:
            return
        pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))]
        print(f"{label:<32}{len(durations):>9}{'':>9}{pick(0.50):>8.0f}{pick(0.95):>8.0f}{pick(0.99):>8.0f}")
    line("pages (no login)", [float(ms) for _e, name, ms in times if name not in ("login", "login form")])
    last = max(logins, default=0.0)
    line("pages after the last login", [float(ms) for e, name, ms in times if name not in ("login", "login form") and float(e) > last])
sys.exit(1 if total else 0)
EOF
if [ "$status" -ne 0 ]; then
  echo "== locust log" >&2; tail -n 30 "$out/locust.log" >&2
  echo "== gunicorn log" >&2; tail -n 30 "$out/gunicorn.log" >&2
fi
exit "$status"
