#!/usr/bin/env bash
# Make sure a local PostgreSQL cluster is running and that Odoo has a role of its own
# (Odoo refuses to run as the "postgres" superuser). Idempotent: safe to call every time.
# Its only output on stdout is the line "PG_PORT=<port>" (callers eval it); anything the
# PostgreSQL tools print (e.g. "Removed stale pid file.") goes to stderr.
set -euo pipefail
exec 3>&1 1>&2

# Everything below acts as the local "postgres" superuser over the Unix socket: the user's own
# libpq settings (PGUSER, PGHOST, PGPASSWORD, ...) must not steer it.
# shellcheck source=no_pg_env.sh
. "$(dirname "$0")/no_pg_env.sh"

PG_ROLE="${PG_ROLE:-odoo}"
PG_PASSWORD="${PG_PASSWORD:-odoo}"

if ! command -v pg_lsclusters >/dev/null 2>&1; then
    echo "PostgreSQL (>= 13) is not installed: apt-get install postgresql" >&2
    exit 1
fi

# Start the first local cluster that is down (Debian's pg_ctlcluster wrapper).
read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1) || {
    echo "No PostgreSQL cluster exists: pg_createcluster 15 main" >&2
    exit 1
}
if [ "$status" != "online" ]; then
    pg_ctlcluster "$version" "$cluster" start 3>&-
fi
for _ in $(seq 1 30); do
    pg_isready -q -p "$port" && break
    sleep 1
done
pg_isready -q -p "$port" || { echo "PostgreSQL did not start on port $port" >&2; exit 1; }

as_postgres() {
    if [ "$(id -un)" = "postgres" ]; then "$@"; else su postgres -c "$(printf '%q ' "$@")"; fi
}
exists=$(as_postgres psql -p "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname='${PG_ROLE}'")
if [ "$exists" != "1" ]; then
    as_postgres psql -q -p "$port" -c "CREATE ROLE \"${PG_ROLE}\" LOGIN CREATEDB PASSWORD '${PG_PASSWORD}'"
fi
echo "PG_PORT=$port" >&3
