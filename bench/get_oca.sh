#!/usr/bin/env bash
# Unpack OCA account_credit_control 19.0 from its PyPI wheel into .build/bench_addons, for the
# side-by-side benchmark only (never committed, never in make test).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.build/bench_addons"
[ -f "$dest/account_credit_control/__manifest__.py" ] && exit 0
tmp=$(mktemp -d)
python3 -m pip download -q --disable-pip-version-check --no-deps \
    "odoo-addon-account-credit-control==19.0.*" -d "$tmp" 2>&1 | grep -v "^WARNING" || true
mkdir -p "$tmp/x" "$dest"
python3 -m zipfile -e "$tmp"/odoo_addon_account_credit_control-*.whl "$tmp/x"
rm -rf "$dest/account_credit_control"
cp -r "$tmp/x/odoo/addons/account_credit_control" "$dest/"
rm -rf "$tmp"
echo "OCA account_credit_control unpacked into $dest"
