"""Shared helpers of the benchmark scripts: configuration, databases, an Odoo environment."""

import contextlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, ".build")
OCA_DIR = os.path.join(BUILD, "bench_addons")
CONF = os.path.join(BUILD, "odoo_bench.conf")


def write_conf():
    """An Odoo configuration whose addons path also holds the OCA addon for the comparison."""
    env = dict(os.environ, EXTRA_ADDONS_PATH=OCA_DIR)
    path = subprocess.check_output([os.path.join(ROOT, "scripts", "odoo_conf.sh")], env=env)
    shutil.copyfile(path.decode().strip(), CONF)
    subprocess.check_output([os.path.join(ROOT, "scripts", "odoo_conf.sh")])
    return CONF


def pg_params():
    """Where the benchmark's PostgreSQL is and who it connects as."""
    return {
        "host": "localhost",
        "port": os.environ.get("PG_PORT", "5432"),
        "user": os.environ.get("PG_ROLE", "odoo"),
        "password": os.environ.get("PG_PASSWORD", "odoo"),
    }


def psql_env():
    return dict(os.environ, PGPASSWORD=pg_params()["password"])


def pg_args():
    params = pg_params()
    return ["-h", params["host"], "-p", params["port"], "-U", params["user"]]


def drop_db(name, tries=5):
    """Drop ``name``; a worker process of a measurement may still be closing its connection
    (seen once: ``dropdb --force`` exited 1), so try again a few times."""
    for attempt in range(tries):
        done = subprocess.run(
            ["dropdb", *pg_args(), "--if-exists", "--force", name], env=psql_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        if not done.returncode:
            return
        time.sleep(2 * (attempt + 1))
    raise RuntimeError(f"dropdb {name}: {done.stderr.strip()}")


def query(db, sql):
    """The text psql prints for ``sql`` on ``db`` (one row, columns joined by ``|``)."""
    out = subprocess.run(
        ["psql", *pg_args(), "-d", db, "-tAc", sql], env=psql_env(), capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def copy_db(template, name):
    drop_db(name)
    subprocess.run(["createdb", *pg_args(), "-T", template, name], env=psql_env(), check=True)


def db_exists(name):
    out = subprocess.run(
        ["psql", *pg_args(), "-d", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        env=psql_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip() == "1"


@contextlib.contextmanager
def odoo_env(db):
    """An environment as superuser on ``db``; the caller commits."""
    import odoo  # noqa: PLC0415 - Odoo is only needed once the configuration is known
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["-c", CONF, "-d", db, "--log-level=warn"])
    registry = Registry(db)
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})


def log(*args):
    print(*args, file=sys.stderr, flush=True)
