#!/usr/bin/env bash
# make bench: build the datasets (cached as template databases), measure, print the comparison
# (.build/bench_results.md, .build/bench_results.json) and draw bench/cost.png.
set -euo pipefail
cd "$(dirname "$0")/.."
# The user's PG* variables would steer Odoo and the PostgreSQL tools elsewhere.
. ./scripts/no_pg_env.sh
./scripts/check_odoo.sh
# wkhtmltopdf for OCA's variant with the PDF attachment (and the fonts of its letters).
./scripts/system_deps.sh || echo "bench: system packages not installed; OCA with its PDF may fail"
# The addon's own Python dependency (phonenumbers), as make test installs it.
python3 -m pip install -q --disable-pip-version-check -r requirements-test.txt 2>&1 \
    | grep -v "^WARNING: \(Running pip as\|Location\)" || true
# Assigned first, so that a failure stops here (eval "$(...)" would hide it).
pg_env=$(./scripts/pg_ensure.sh)
eval "$pg_env"
: "${PG_PORT:?pg_ensure.sh printed no PG_PORT}"
export PG_PORT
./bench/get_oca.sh
./bench/get_plot.sh
python3 bench/run_bench.py "$@"
python3 bench/plot.py
