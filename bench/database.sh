# Sourced by bench/run.sh and bench/load.sh: the environment of a production-like process, and
# `seeded_database NAME CLIENTS`, which builds (once) a PostgreSQL database of CLIENTS demo clients.
export DEBUG=false SECRET_KEY=bench-only-not-secret-bench-only-not-secret-bench-only-not-secret
export SECURE_SSL_REDIRECT=false SECURE_COOKIES=false LOG_LEVEL=WARNING
# The demo's administrador has no authenticator: with DEBUG off their pages would all redirect to
# the code step (bench/pages.py asserts 200, the load test's admins could not log in).
export OTP_REQUIRED_FOR_ADMINS="${OTP_REQUIRED_FOR_ADMINS:-false}"
PY=.venv/bin/python

seeded_database() {
  local name=$1 clients=$2
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${name}"
  if ! psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw "$name"; then
    createdb -h 127.0.0.1 -U postgres "$name"
  fi
  $PY manage.py migrate --no-input -v0
  $PY manage.py collectstatic --no-input -v0  # DEBUG is off: pages use the hashed static manifest
  local have
  have=$(psql -h 127.0.0.1 -U postgres -d "$name" -tAc "SELECT count(*) FROM clients_client")
  if [ "$have" -lt "$clients" ]; then
    if [ "$have" -gt 0 ]; then
      dropdb -h 127.0.0.1 -U postgres "$name" && createdb -h 127.0.0.1 -U postgres "$name"
      $PY manage.py migrate --no-input -v0
    fi
    echo "== seed_demo --clients $clients"
    $PY manage.py seed_demo --clients "$clients" | grep -vE "^\s+(comercial|gerente|admin)"
  fi
}
