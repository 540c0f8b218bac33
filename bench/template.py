"""The benchmark's template databases: named after the generator's files, kept across changes
of the addon's code by upgrading them in place.

A template is ``bench_tpl_<lines>_<hash of generate.py, plan.py, clone.py>``: the same ledger
as long as the generator is unchanged. The hash of the addon (``dunning_b2b``) it was built or
last upgraded with is in its ``ir.config_parameter`` ``bench.addon_hash``; when the addon's code
differs, the template is upgraded once (``-u dunning_b2b``) and the new hash recorded. A build
writes into ``<name>_building`` and renames it when done, so that a template that exists is
complete (a ``_building`` database is a build running, or one that failed).

    python3 bench/template.py --lines 100000 [--customers 10000] [--force]   # prints the name
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time

from common import BUILD, CONF, ROOT, db_exists, drop_db, log, query, write_conf

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = ("generate.py", "plan.py", "clone.py")


def _digest(paths):
    digest = hashlib.sha1()
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(os.path.basename(path).encode() + handle.read())
    return digest.hexdigest()[:8]


def generator_hash():
    return _digest(os.path.join(HERE, name) for name in GENERATOR)


def addon_hash():
    """The hash of the addon's installed code (tests, translations and docs left out)."""
    paths = []
    for folder, dirs, files in sorted(os.walk(os.path.join(ROOT, "dunning_b2b"))):
        dirs[:] = sorted(d for d in dirs if d not in ("tests", "__pycache__", "i18n", "readme"))
        paths += [os.path.join(folder, name) for name in sorted(files)]
    return _digest(paths)


def template_name(lines):
    return f"bench_tpl_{lines}_{generator_hash()}"


def stored_hash(db):
    return query(db, "SELECT value FROM ir_config_parameter WHERE key = 'bench.addon_hash'")


def _rename(old, new):
    query("postgres", f'ALTER DATABASE "{old}" RENAME TO "{new}"')
    store = os.path.join(BUILD, "data", "filestore")
    if os.path.isdir(os.path.join(store, old)):
        shutil.move(os.path.join(store, old), os.path.join(store, new))


def upgrade(template, current):
    """Bring ``template`` to the addon's current code, once."""
    started = time.monotonic()
    log(f"{template}: addon changed ({stored_hash(template)} -> {current}), upgrading in place")
    subprocess.run(
        [sys.executable, "-m", "odoo", "-c", CONF, "-d", template, "-u", "dunning_b2b",
         "--stop-after-init", "--log-level=warn"],
        check=True, cwd=ROOT,
    )  # fmt: skip
    query(
        template,
        "INSERT INTO ir_config_parameter (key, value) VALUES ('bench.addon_hash', "
        f"'{current}') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    )
    log(f"{template}: upgraded in {time.monotonic() - started:.0f} s")


def ensure(lines, customers=None, force=False):
    """The name of an up-to-date template of ``lines`` open lines, built or upgraded if need be."""
    write_conf()
    name = template_name(lines)
    building = f"{name}_building"
    if force:
        drop_db(name)
        drop_db(building)
    if not db_exists(name):
        if db_exists(building):
            sys.exit(f"{building} exists: a build is running or failed (--force to rebuild)")
        subprocess.run(
            [sys.executable, os.path.join(HERE, "generate.py"), "--lines", str(lines),
             "--customers", str(customers or max(lines // 10, 1)), "--template", building],
            check=True, cwd=ROOT,
        )  # fmt: skip
        _rename(building, name)
        return name
    current = addon_hash()
    if stored_hash(name) != current:
        upgrade(name, current)
    return name


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10000, help="open receivable lines")
    parser.add_argument("--customers", type=int, help="default: one per 10 lines")
    parser.add_argument("--force", action="store_true", help="rebuild from scratch")
    args = parser.parse_args()
    print(ensure(args.lines, args.customers, args.force))


if __name__ == "__main__":
    main()
