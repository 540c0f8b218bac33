#!/usr/bin/env bash
# Write .build/odoo.conf for this checkout: the local PostgreSQL role made by pg_ensure.sh,
# Odoo's own addons and this repository's addons. Prints the path of the file.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/.build"
mkdir -p "$build/data"
odoo_root=$(python3 - <<'PY'
import os, odoo.addons.base as base
# odoo/addons/base -> the source tree's root holds addons/ beside odoo/
print(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(base.__file__)))))
PY
)
addons="$odoo_root/odoo/addons"
[ -d "$odoo_root/addons" ] && addons="$odoo_root/addons,$addons"
extra="${EXTRA_ADDONS_PATH:+,$EXTRA_ADDONS_PATH}"
cat > "$build/odoo.conf" <<CONF
[options]
db_host = localhost
db_port = ${PG_PORT:-5432}
db_user = ${PG_ROLE:-odoo}
db_password = ${PG_PASSWORD:-odoo}
addons_path = $addons,$here$extra
data_dir = $build/data
http_interface = 127.0.0.1
CONF
echo "$build/odoo.conf"
