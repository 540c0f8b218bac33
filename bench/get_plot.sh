#!/usr/bin/env bash
# matplotlib for bench/plot.py, from PyPI (never committed, not part of make test).
set -euo pipefail
python3 -c "import matplotlib" 2>/dev/null && exit 0
python3 -m pip install -q --disable-pip-version-check matplotlib
