#!/usr/bin/env bash
# The whole suite on a fresh, throw-away database:
#   1. lint; 2. install the addons, failing on any WARNING/ERROR logged by our code;
#   3. run their tests with Odoo's own runner and close on a pytest-style summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# The user's PG* variables would steer Odoo and the PostgreSQL tools elsewhere.
. "$root/scripts/no_pg_env.sh"

"$root/scripts/check_odoo.sh"
python3 -m pip install -q --disable-pip-version-check -r requirements-test.txt 2>&1 \
    | grep -v "^WARNING: \(Running pip as\|Location\)" || true

"$root/scripts/lint.sh"
"$root/scripts/system_deps.sh"

# Assigned first, so that a failure stops here (eval "$(...)" would hide it).
pg_env=$("$root/scripts/pg_ensure.sh")
eval "$pg_env"
: "${PG_PORT:?pg_ensure.sh printed no PG_PORT}"
export PG_PORT
conf=$("$root/scripts/odoo_conf.sh")
addons=$(ls -d */__manifest__.py | xargs -n1 dirname | paste -sd, -)
db="dunning_test_$$"
logdir="$root/.build/logs"
mkdir -p "$logdir"
cleanup() { python3 -m odoo db -c "$conf" drop "$db" >/dev/null 2>&1 || dropdb_fallback; }
dropdb_fallback() { PGPASSWORD="${PG_PASSWORD:-odoo}" dropdb -h localhost -p "${PG_PORT:-5432}" -U "${PG_ROLE:-odoo}" --if-exists "$db" >/dev/null 2>&1 || true; }
trap dropdb_fallback EXIT

# Odoo modules our addons use when installed, installed so that their paths are tested:
# account_qr_code_sepa (the EPC/SEPA payment QR code in reminders and letters), payment_demo
# (the demo payment provider the buyer pays with on the customer page).
extra="account_qr_code_sepa,payment_demo"
echo "== install $addons (with $extra) on a fresh database ($db)"
start=$(date +%s)
python3 -m odoo -c "$conf" -d "$db" -i "$addons,$extra" --stop-after-init --log-level=info \
    > "$logdir/install.log" 2>&1 || { tail -50 "$logdir/install.log"; echo "install failed"; exit 1; }
echo "installed in $(( $(date +%s) - start )) s"
# Our code's warnings and errors: lines logged by our addons' loggers, or mentioning them.
pattern=$(echo "$addons" | sed 's/,/|/g')
if grep -E " (WARNING|ERROR|CRITICAL) " "$logdir/install.log" | grep -E "odoo\.addons\.($pattern)|($pattern)" ; then
    echo "FAILED: the install log has warnings or errors from our code (above)."
    exit 1
fi

echo "== tests"
tags=$(echo "$addons" | sed 's/\([^,]*\)/\/\1/g')
set +e
python3 -m odoo -c "$conf" -d "$db" --test-enable --test-tags "$tags" --stop-after-init \
    --log-level=test --http-port="${TEST_HTTP_PORT:-8169}" > "$logdir/test.log" 2>&1
status=$?
set -e
grep -E " (FAIL|ERROR): " -A30 "$logdir/test.log" | head -400 || true

echo "== upgrade keeps history (19.0.1.0.0 with events, promises, disputes -> -u dunning_b2b)"
upgrade=0
"$root/scripts/upgrade_check.sh" "$conf" || upgrade=1

echo "== scripts (PG* variables of the user's shell, unbound variables)"
scripts_check=0
python3 "$root/scripts/check_scripts.py" || scripts_check=1

# The closing line, pytest style; the upgrade check and the scripts check count as tests.
python3 "$root/scripts/summarize_tests.py" "$logdir/test.log" "$status" "$upgrade" "$scripts_check"
