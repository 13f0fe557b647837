#!/usr/bin/env bash
# Start the machine's PostgreSQL 15 cluster (installed, not running) and create the test role and database.
# Idempotent; prints the URL tests use. Does nothing harmful when PostgreSQL is absent: the tests then say so.
set -uo pipefail
DB=${CONTINUOUS_TEST_PG_DB:-continuous_test}
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq postgresql-15) >/dev/null 2>&1 || true
  fi
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "postgres: pg_ctlcluster not found; PostgreSQL tests will fail under CONTINUOUS_REQUIRE_POSTGRES=1" >&2
  exit 0
fi
if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 \+main'; then
  pg_createcluster 15 main >/dev/null 2>&1 || true
fi
if ! pg_lsclusters -h | grep -q '^15 \+main .* online'; then
  pg_ctlcluster 15 main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h /var/run/postgresql && break
  sleep 0.5
done
ROLE=$(id -un)
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'CREATE ROLE \"$ROLE\" LOGIN SUPERUSER'"
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'CREATE DATABASE \"$DB\" OWNER \"$ROLE\"'"
# a small server: bounded connections are plenty for the concurrency tests
echo "postgres: ready at postgresql+psycopg:///$DB?host=/var/run/postgresql"
