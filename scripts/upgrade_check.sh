#!/usr/bin/env bash
# Upgrade keeps history: install the previous release of the addons (19.0.1.0.0, read from
# git) on a fresh database, create dunning history with it, update to this checkout with
# -u dunning_b2b, and compare the counts before and after: events, messages, promises,
# disputes, and the staged receivable lines per stage (the invoice stages moved onto their
# lines, each at its invoice's stage).
set -euo pipefail
conf=${1:?usage: upgrade_check.sh <odoo.conf>}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The user's PG* variables would steer Odoo and the PostgreSQL tools elsewhere.
. "$root/scripts/no_pg_env.sh"
from_rev=${UPGRADE_FROM:-a7daca7542488fed4ed39611a3afdf9a0f57e832}  # last 19.0.1.0.0
old="$root/.build/upgrade_from"
old_conf="$root/.build/odoo_upgrade_from.conf"
if git -C "$root" cat-file -e "$from_rev^{commit}" 2>/dev/null; then
    rm -rf "$old" && mkdir -p "$old"
    git -C "$root" archive "$from_rev" dunning_b2b dunning_b2b_sale | tar -x -C "$old"
    sed "s#^addons_path = \(.*\),$root\(.*\)\$#addons_path = \1,$old\2#" "$conf" > "$old_conf"
    grep -q "$old" "$old_conf" || { echo "upgrade check: could not point addons_path at $old"; exit 1; }
else
    # A shallow clone without the previous release: -u on this release only, said plainly.
    echo "upgrade check: $from_rev is not in this clone's history; checking -u of this release"
    cp "$conf" "$old_conf"
fi
db="dunning_upgrade_$$"
trap 'python3 -m odoo db -c "$conf" drop "$db" >/dev/null 2>&1 || true' EXIT
shell() {  # shell <conf> <make|count>
    python3 -m odoo shell -c "$1" -d "$db" --log-level=error \
        < <(echo "import sys; sys.argv=['x', '$2']"; cat "$here/upgrade_check.py") 2>&1 | tail -1
}
python3 -m odoo -c "$old_conf" -d "$db" -i dunning_b2b --stop-after-init --log-level=warn \
    > "$root/.build/logs/upgrade_install.log" 2>&1 \
    || { tail -20 "$root/.build/logs/upgrade_install.log"; echo "upgrade check: old install failed"; exit 1; }
before=$(shell "$old_conf" make)
python3 -m odoo -c "$conf" -d "$db" -u dunning_b2b --stop-after-init --log-level=warn \
    > "$root/.build/logs/upgrade.log" 2>&1 \
    || { tail -20 "$root/.build/logs/upgrade.log"; echo "upgrade check: -u failed"; exit 1; }
after=$(shell "$conf" count)
echo "before -u: $before"
echo "after  -u: $after"
case "$before" in *"dunning.event=0 "*|*"staged_lines=0 "*|"") echo "upgrade check: no history was created"; exit 1 ;; esac
[ "$before" = "$after" ] || { echo "upgrade check FAILED: history changed"; exit 1; }
echo "upgrade check: history kept"
