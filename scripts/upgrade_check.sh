#!/usr/bin/env bash
# Upgrade keeps history: commit dunning history on DB, run -u dunning_b2b, compare the counts.
set -euo pipefail
conf=$1
db=$2
here=$(cd "$(dirname "$0")" && pwd)
before=$(python3 -m odoo shell -c "$conf" -d "$db" --log-level=warn < <(echo "import sys; sys.argv=['x', 'make']"; cat "$here/upgrade_check.py") 2>/dev/null | tail -1)
python3 -m odoo -c "$conf" -d "$db" -u dunning_b2b --stop-after-init --log-level=warn 2>&1 | grep -v "security risk" || true
after=$(python3 -m odoo shell -c "$conf" -d "$db" --log-level=warn < <(echo "import sys; sys.argv=['x', 'count']"; cat "$here/upgrade_check.py") 2>/dev/null | tail -1)
echo "before -u: $before"
echo "after  -u: $after"
case "$before" in *"dunning.event=0 "*|"") echo "upgrade check: no history was created"; exit 1 ;; esac
[ "$before" = "$after" ] || { echo "upgrade check FAILED: history changed"; exit 1; }
echo "upgrade check: history kept"
