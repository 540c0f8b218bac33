"""What PostgreSQL alone spends inserting the rows a run added: a floor under the run.

Each table's new rows (those its template did not have) are copied into an empty table of
the same definition (columns, defaults, checks, indexes, foreign keys) with one
INSERT ... SELECT per table, in a transaction that is rolled back; then again without the
foreign keys. A real run inserts the same rows in many statements, reads between them, and
also updates and deletes rows (not measured here), so it costs more.

    python3 bench/worker.py --db COPY --step run    # on a fresh copy of TEMPLATE
    python3 bench/write_floor.py --db COPY --template TEMPLATE [--min-rows 1000] [--repeat 3]

COPY holds the one run to weigh (the copy ``measure.py`` leaves also holds the unchanged
day, the payments and the next day). A first copy of each table warms the cache and is not
counted; then each copy is made ``--repeat`` times, with and without the foreign keys in
turn, and the median is kept. Prints a table (the tables left out and why first) and, last,
one JSON line. The statement-level triggers of the change journal are not copied: their own
rows are in ``dunning_change``, measured like the others. Each copy locks the tables its
foreign keys reference against writes: run it on a copy nobody uses.
"""

import argparse
import contextlib
import json
import statistics
import time

import psycopg2
from common import pg_params
from psycopg2 import sql


def connect(db):
    return psycopg2.connect(dbname=db, **pg_params())


def name(table):
    return sql.Identifier("public", table)


def tables(cr):
    """[(table, whether it has an id column)] of the ordinary tables of public."""
    cr.execute(
        """SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a
                                      WHERE a.attrelid = c.oid AND a.attname = 'id'
                                        AND NOT a.attisdropped)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
            ORDER BY c.relname"""
    )
    return cr.fetchall()


def table_marks(cr):
    """{table: ("id", max id) or ("rows", count)} for every ordinary table of public."""
    marks = {}
    for table, has_id in tables(cr):
        if has_id:
            cr.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(name(table)))
            marks[table] = ("id", cr.fetchone()[0])
        else:
            cr.execute(sql.SQL("SELECT count(*) FROM {}").format(name(table)))
            marks[table] = ("rows", cr.fetchone()[0])
    return marks


def new_rows(cr, table, mark):
    """(condition selecting the rows the run added, their number, None), or (None, 0, why
    the table is left out): a table without ids that already had rows in the template (its
    new rows cannot be told from the old ones), or missing from the template."""
    if mark is None:
        return None, 0, "not in the template"
    kind, value = mark
    if kind == "rows" and value:
        return None, 0, f"no id column and {value} rows in the template"
    where = sql.SQL("id > {}").format(sql.Literal(value)) if kind == "id" else sql.SQL("true")
    cr.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(name(table), where))
    return where, cr.fetchone()[0], None


def timed_copy(conn, table, where, foreign_keys):
    """Seconds of the INSERT of the rows into an empty twin of ``table``; rolled back."""
    with conn.cursor() as cr:
        try:
            cr.execute(
                sql.SQL(
                    "CREATE TABLE bench_floor_twin (LIKE {} INCLUDING DEFAULTS "
                    "INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING STORAGE)"
                ).format(name(table))
            )
            if foreign_keys:
                cr.execute(
                    """SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
                         JOIN pg_class t ON t.oid = c.conrelid
                         JOIN pg_namespace n ON n.oid = t.relnamespace
                        WHERE n.nspname = 'public' AND t.relname = %s AND c.contype = 'f'""",
                    [table],
                )
                for (definition,) in cr.fetchall():
                    cr.execute(sql.SQL("ALTER TABLE bench_floor_twin ADD " + definition))
            insert = sql.SQL("INSERT INTO bench_floor_twin SELECT * FROM {} WHERE {}")
            start = time.perf_counter()
            cr.execute(insert.format(name(table), where))
            return time.perf_counter() - start
        finally:
            conn.rollback()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="a copy of the template after a run")
    parser.add_argument("--template", required=True)
    parser.add_argument("--min-rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # closing(): psycopg2's own ``with`` ends the transaction, not the connection, and an
    # open connection to the template stops createdb -T from copying it.
    with contextlib.closing(connect(args.template)) as before, before.cursor() as cr:
        marks = table_marks(cr)
    rows, left_out = [], []
    with contextlib.closing(connect(args.db)) as conn:
        with conn.cursor() as cr:
            todo = [(table, *new_rows(cr, table, marks.get(table))) for table, _id in tables(cr)]
        conn.rollback()
        for table, where, count, why in todo:
            if why or 0 < count < args.min_rows:
                left_out.append({"table": table, "why": why or f"{count} new rows"})
            if why or count < max(args.min_rows, 1):
                continue
            timed_copy(conn, table, where, False)  # warms the cache: not counted
            times = {True: [], False: []}
            for turn in range(args.repeat):
                for keys in (turn % 2 == 0, turn % 2 == 1):
                    times[keys].append(timed_copy(conn, table, where, keys))
            rows.append({
                "table": table, "rows": count,
                "seconds": round(statistics.median(times[True]), 2),
                "no_fk": round(statistics.median(times[False]), 2),
                "spread": [round(min(times[True]), 2), round(max(times[True]), 2)],
            })  # fmt: skip
    rows.sort(key=lambda row: -row["seconds"])
    total = {key: round(sum(row[key] for row in rows), 2) for key in ("rows", "seconds", "no_fk")}
    for table in left_out:
        print(f"left out: {table['table']} ({table['why']})")
    print(f"{'table':48} {'rows':>9} {'seconds':>8} {'no FK':>8}")
    for row in [*rows, {"table": "total", **total}]:
        print(f"{row['table']:48} {row['rows']:>9} {row['seconds']:>8} {row['no_fk']:>8}")
    print(json.dumps({"db": args.db, "tables": rows, "total": total, "left_out": left_out}))


if __name__ == "__main__":
    main()
