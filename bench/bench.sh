#!/usr/bin/env bash
# make bench: build the datasets (cached as template databases) and print the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/check_odoo.sh
eval "$(./scripts/pg_ensure.sh)"
export PG_PORT
./bench/get_oca.sh
python3 bench/run_bench.py "$@"
