#!/usr/bin/env bash
# Fail early, with the fix, when Odoo 19.0 is not importable by python3.
set -euo pipefail
if ! version=$(python3 -c "import odoo.release as r; print(r.version)" 2>/dev/null); then
    cat >&2 <<'MSG'
ERROR: Odoo 19.0 is not importable by python3 ("import odoo" failed).
Install Odoo 19.0 Community from its source first, as described in README.md
("Prerequisites"): clone https://github.com/odoo/odoo at branch 19.0, then
    python3 -m pip install -r <odoo>/requirements.txt
    python3 -m pip install --no-deps -e <odoo>
MSG
    exit 1
fi
case "$version" in
    19.0*) ;;
    *) echo "ERROR: Odoo $version is importable, but dunning_b2b needs Odoo 19.0." >&2; exit 1 ;;
esac
