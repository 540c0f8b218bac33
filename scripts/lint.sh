#!/usr/bin/env bash
# ruff (lint + format check) and pylint-odoo's mandatory checks on the addons.
set -euo pipefail
cd "$(dirname "$0")/.."
addons=$(ls -d */__manifest__.py | xargs -n1 dirname)
echo "== ruff"
python3 -m ruff check $addons scripts $( [ -d bench ] && echo bench )
python3 -m ruff format --check $addons
echo "== pylint-odoo (mandatory checks)"
python3 -m pylint --rcfile=.pylintrc-mandatory $addons
