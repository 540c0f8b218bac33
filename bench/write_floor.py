"""What PostgreSQL alone spends writing the rows of a run: the floor under any code.

Each table's new rows (those its template did not have) are copied into an empty table of
the same definition (columns, defaults, checks, indexes, foreign keys), one INSERT per
table, in a transaction that is rolled back; then again without the foreign keys. A real
run writes the same rows in many statements and reads between them, so it costs more:
this is the least any code writing these rows can cost on this machine.

    python3 bench/write_floor.py --db COPY --template TEMPLATE [--min-rows 1000]

COPY is a copy of TEMPLATE after the run (``measure.py`` leaves one). Prints a table and,
last, one JSON line. The statement-level triggers of the change journal are not copied:
their own rows are in ``dunning_change``, measured like the others.
"""

import argparse
import json
import os
import time

import psycopg2


def connect(db):
    return psycopg2.connect(
        dbname=db, host="localhost", port=os.environ.get("PG_PORT", "5432"),
        user=os.environ.get("PG_ROLE", "odoo"), password=os.environ.get("PG_PASSWORD", "odoo"),
    )  # fmt: skip


def table_marks(cr):
    """{table: ("id", max id) or ("rows", count)} for every ordinary table of public."""
    cr.execute(
        """SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a
                                      WHERE a.attrelid = c.oid AND a.attname = 'id'
                                        AND NOT a.attisdropped)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'"""
    )
    marks = {}
    for table, has_id in cr.fetchall():
        if has_id:
            cr.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
            marks[table] = ("id", cr.fetchone()[0])
        else:
            cr.execute(f'SELECT count(*) FROM "{table}"')
            marks[table] = ("rows", cr.fetchone()[0])
    return marks


def new_rows(cr, table, mark):
    """The condition selecting the rows the run added, and their number; a table without
    ids that already had rows in the template is left out (None)."""
    kind, value = mark
    if kind == "rows" and value:
        return None, 0
    where = f"id > {int(value)}" if kind == "id" else "true"
    cr.execute(f'SELECT count(*) FROM "{table}" WHERE {where}')
    return where, cr.fetchone()[0]


def timed_copy(conn, table, where, foreign_keys):
    """Seconds of the INSERT of the rows into an empty twin of ``table``; rolled back."""
    with conn.cursor() as cr:
        try:
            cr.execute(
                f'CREATE TABLE bench_floor_twin (LIKE "{table}" INCLUDING DEFAULTS '
                "INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING STORAGE)"
            )
            if foreign_keys:
                cr.execute(
                    """SELECT pg_get_constraintdef(oid) FROM pg_constraint
                        WHERE conrelid = %s::regclass AND contype = 'f'""",
                    [f'"{table}"'],
                )
                for (definition,) in cr.fetchall():
                    cr.execute(f"ALTER TABLE bench_floor_twin ADD {definition}")
            start = time.perf_counter()
            cr.execute(f'INSERT INTO bench_floor_twin SELECT * FROM "{table}" WHERE {where}')
            return round(time.perf_counter() - start, 2)
        finally:
            conn.rollback()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="a copy of the template after a run")
    parser.add_argument("--template", required=True)
    parser.add_argument("--min-rows", type=int, default=1000)
    args = parser.parse_args()
    with connect(args.template) as before:
        with before.cursor() as cr:
            marks = table_marks(cr)
    conn = connect(args.db)
    rows = []
    with conn.cursor() as cr:
        todo = [(table, *new_rows(cr, table, mark)) for table, mark in sorted(marks.items())]
    conn.rollback()
    for table, where, count in todo:
        if count < args.min_rows:
            continue
        with_fk = timed_copy(conn, table, where, True)
        without_fk = timed_copy(conn, table, where, False)
        rows.append({"table": table, "rows": count, "seconds": with_fk, "no_fk": without_fk})
    conn.close()
    rows.sort(key=lambda row: -row["seconds"])
    total = {key: round(sum(row[key] for row in rows), 2) for key in ("rows", "seconds", "no_fk")}
    print(f"{'table':48} {'rows':>9} {'seconds':>8} {'no FK':>8}")
    for row in [*rows, {"table": "total", **total}]:
        print(f"{row['table']:48} {row['rows']:>9} {row['seconds']:>8} {row['no_fk']:>8}")
    print(json.dumps({"db": args.db, "tables": rows, "total": total}))


if __name__ == "__main__":
    main()
