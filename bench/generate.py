"""Build a benchmark template database: two companies, N customers with invoice contacts and
M open customer invoices (due from 20 days ahead to 200 days overdue, some partially paid, two
currencies), with dunning_b2b and OCA account_credit_control installed side by side.

Invoices are cloned in SQL from a few invoices posted through the ORM, so that M = 100,000
takes about a minute instead of hours; the clones carry the columns both engines read
(account_move: payment_state, amount_residual, invoice_date_due, commercial_partner_id;
account_move_line: date_maturity, amount_residual, reconciled, parent_state).

    python3 bench/generate.py --customers 10000 --invoices 100000 [--template NAME]
"""

import argparse
import hashlib
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta

from common import CONF, ROOT, db_exists, drop_db, log, odoo_env, write_conf

SEED = 20261123


def source_hash():
    """Templates are rebuilt when the addon changes: its files' hash is in the template name."""
    digest = hashlib.sha1()
    addon = os.path.join(ROOT, "dunning_b2b")
    for folder, dirs, files in sorted(os.walk(addon)):
        dirs[:] = sorted(d for d in dirs if d not in ("tests", "__pycache__", "i18n", "readme"))
        for name in sorted(files):
            with open(os.path.join(folder, name), "rb") as handle:
                digest.update(name.encode() + handle.read())
    return digest.hexdigest()[:8]


def install(template):
    drop_db(template)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "odoo", "-c", CONF, "-d", template,
         "-i", "dunning_b2b,account_credit_control", "--stop-after-init", "--log-level=warn"],
        check=True, cwd=ROOT,
    )  # fmt: skip
    log(f"installed in {time.monotonic() - started:.0f} s")


def setup_companies(env):
    from odoo import Command  # noqa: PLC0415

    main = env.ref("base.main_company")
    eur = env.ref("base.EUR")
    usd = env.ref("base.USD")
    eur.active = True
    usd.active = True
    second = env["res.company"].create({"name": "Bench Europe", "currency_id": eur.id})
    env["account.chart.template"].try_loading("generic_coa", second, install_demo=False)
    second.currency_id = eur  # the generic chart sets its own currency
    env["res.currency.rate"].create(
        [
            {"currency_id": eur.id, "rate": 0.9, "name": "2020-01-01", "company_id": main.id},
            {"currency_id": usd.id, "rate": 1.1, "name": "2020-01-01", "company_id": second.id},
        ]
    )
    env.ref("base.user_root").company_ids = [Command.link(second.id)]
    return [(main, main.currency_id, eur), (second, eur, usd)]


def create_customers(env, count):
    Partner = env["res.partner"].with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
    customers = Partner.browse()
    for start in range(0, count, 2000):
        batch = Partner.create(
            [{"name": f"Bench Customer {i:06d}", "is_company": True,
              "email": f"ap{i}@customer{i}.example.com"}
             for i in range(start, min(start + 2000, count))]
        )  # fmt: skip
        Partner.create(
            [{"name": "Accounts payable", "type": "invoice", "parent_id": p.id,
              "email": f"billing@{p.email.split('@')[1]}"} for p in batch]
        )  # fmt: skip
        customers |= batch
        env.cr.commit()
        log(f"customers: {len(customers)}")
    return customers


def template_invoice(env, company, currency, partner):
    from odoo import Command  # noqa: PLC0415

    move = (
        env["account.move"]
        .with_company(company)
        .create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date.today() - timedelta(days=400),
                "currency_id": currency.id,
                "invoice_line_ids": [
                    Command.create({"name": "Bench goods", "quantity": 1, "price_unit": 100.0,
                                    "tax_ids": [Command.clear()]})
                ],
            }
        )
    )  # fmt: skip
    move.action_post()
    return move


def plan_rows(customers_by_company, count, today):
    """(ord, company index, customer, due date, amount, residual, foreign currency?)"""
    rng = random.Random(SEED)
    rows = []
    companies = list(customers_by_company)
    weights = [len(customers_by_company[c]) for c in companies]
    for ordinal in range(count):
        company = rng.choices(companies, weights)[0]
        partner_id = rng.choice(customers_by_company[company])
        due = today + timedelta(days=20 - rng.randint(0, 220))
        amount = round(rng.uniform(100, 10000), 2)
        residual = round(amount * rng.uniform(0.3, 0.7), 2) if rng.random() < 0.1 else amount
        foreign = rng.random() < 0.2
        rows.append((ordinal, company, partner_id, due, amount, residual, foreign))
    return rows


def clone_invoices(env, rows, templates):
    """Insert the planned invoices by cloning the template invoices' rows in SQL."""
    cr = env.cr
    cr.execute(
        """CREATE TEMP TABLE bench_plan (ord int, tpl_id int, partner_id int, due date,
           amount numeric, residual numeric, rate numeric, name varchar) ON COMMIT DROP"""
    )
    values = []
    for ordinal, company, partner_id, due, amount, residual, foreign in rows:
        tpl, rate = templates[(company, foreign)]
        values.append((ordinal, tpl.id, partner_id, due, amount, residual, rate,
                       f"BENCH/{company}/{ordinal:07d}"))  # fmt: skip
    for start in range(0, len(values), 20000):
        chunk = values[start : start + 20000]
        args = ",".join(cr.mogrify("(%s,%s,%s,%s,%s,%s,%s,%s)", v).decode() for v in chunk)
        cr.execute("INSERT INTO bench_plan VALUES " + args)  # pylint: disable=sql-injection

    def columns(table):
        cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND column_name != 'id' ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in cr.fetchall()]

    move_over = {
        "name": "p.name", "ref": "'BENCH-' || p.ord", "payment_reference": "p.name",
        "partner_id": "p.partner_id", "commercial_partner_id": "p.partner_id",
        "partner_shipping_id": "p.partner_id", "invoice_partner_display_name": "'Bench'",
        "date": "p.due - 30", "invoice_date": "p.due - 30", "invoice_date_due": "p.due",
        "amount_untaxed": "p.amount", "amount_total": "p.amount", "amount_tax": "0",
        "amount_residual": "p.residual",
        "amount_untaxed_signed": "round(p.amount * p.rate, 2)",
        "amount_total_signed": "round(p.amount * p.rate, 2)",
        "amount_total_in_currency_signed": "p.amount",
        "amount_untaxed_in_currency_signed": "p.amount",
        "amount_residual_signed": "round(p.residual * p.rate, 2)",
        "payment_state": "CASE WHEN p.residual < p.amount THEN 'partial' ELSE 'not_paid' END",
        "sequence_number": "p.ord + 1000000", "create_date": "now()", "write_date": "now()",
    }  # fmt: skip
    cols = columns("account_move")
    exprs = [move_over.get(c, f"t.{c}") for c in cols]
    cr.execute(
        f"""INSERT INTO account_move ({", ".join(cols)})
            SELECT {", ".join(exprs)} FROM bench_plan p JOIN account_move t ON t.id = p.tpl_id"""
    )  # pylint: disable=sql-injection
    cr.execute(
        """CREATE TEMP TABLE bench_moves ON COMMIT DROP AS
           SELECT m.id, p.ord FROM account_move m JOIN bench_plan p ON m.ref = 'BENCH-' || p.ord"""
    )
    receivable = "tl.display_type = 'payment_term'"
    line_over = {
        "move_id": "nm.id", "move_name": "p.name", "partner_id": "p.partner_id",
        "date": "p.due - 30", "invoice_date": "p.due - 30",
        "date_maturity": f"CASE WHEN {receivable} THEN p.due ELSE tl.date_maturity END",
        "balance": f"CASE WHEN {receivable} THEN 1 ELSE -1 END * round(p.amount * p.rate, 2)",
        "debit": f"CASE WHEN {receivable} THEN round(p.amount * p.rate, 2) ELSE 0 END",
        "credit": f"CASE WHEN {receivable} THEN 0 ELSE round(p.amount * p.rate, 2) END",
        "amount_currency": f"CASE WHEN {receivable} THEN 1 ELSE -1 END * p.amount",
        "price_unit": f"CASE WHEN {receivable} THEN tl.price_unit ELSE p.amount END",
        "price_subtotal": f"CASE WHEN {receivable} THEN tl.price_subtotal ELSE p.amount END",
        "price_total": f"CASE WHEN {receivable} THEN tl.price_total ELSE p.amount END",
        "amount_residual": f"CASE WHEN {receivable} THEN round(p.residual * p.rate, 2) ELSE 0 END",
        "amount_residual_currency": f"CASE WHEN {receivable} THEN p.residual ELSE 0 END",
        "create_date": "now()", "write_date": "now()",
    }  # fmt: skip
    cols = columns("account_move_line")
    exprs = [line_over.get(c, f"tl.{c}") for c in cols]
    cr.execute(
        f"""INSERT INTO account_move_line ({", ".join(cols)})
            SELECT {", ".join(exprs)} FROM bench_plan p
              JOIN bench_moves nm ON nm.ord = p.ord
              JOIN account_move_line tl ON tl.move_id = p.tpl_id"""
    )  # pylint: disable=sql-injection
    cr.execute("ANALYZE account_move; ANALYZE account_move_line")


def configure_oca(env, companies):
    """An OCA policy per company with levels comparable to our ladder (OCA has no pre-due level)."""
    template = env.ref("account_credit_control.email_template_credit_control_base")
    for company, _currency, _foreign in companies:
        receivable = env["account.account"].search(
            [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.id)]
        )
        policy = env["credit.control.policy"].create(
            {"name": f"Bench ladder {company.name}", "company_id": company.id,
             "account_ids": [(6, 0, receivable.ids)],
             "level_ids": [
                 (0, 0, {"name": name, "level": level, "computation_mode": "net_days",
                         "delay_days": delay, "channel": "email",
                         "email_template_id": template.id, "custom_text": name,
                         "custom_mail_text": name})
                 for level, (name, delay) in enumerate(
                     [("Follow-up", 1), ("Formal notice", 16), ("Escalation", 46),
                      ("Final", 91)], start=1)
             ]}
        )  # fmt: skip
        company.credit_policy_id = policy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--invoices", type=int, default=100000)
    parser.add_argument("--template")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    template = args.template or f"dunning_bench_{args.invoices}_{source_hash()}"
    write_conf()
    if db_exists(template) and not args.force:
        log(f"{template} exists (use --force to rebuild)")
        print(template)
        return
    started = time.monotonic()
    install(template)
    with odoo_env(template) as env:
        companies = setup_companies(env)
        env.cr.commit()
        customers = create_customers(env, args.customers).ids
        split = int(len(customers) * 0.8)
        by_company = {0: customers[:split], 1: customers[split:]}
        templates = {}
        for index, (company, currency, foreign) in enumerate(companies):
            partner = env["res.partner"].browse(by_company[index][0])
            for is_foreign, cur in ((False, currency), (True, foreign)):
                move = template_invoice(env, company, cur, partner)
                rate = abs(move.amount_total_signed) / move.amount_total
                templates[(index, is_foreign)] = (move, round(rate, 6))
        env.cr.commit()
        rows = plan_rows(by_company, args.invoices, date.today())
        clone_invoices(env, rows, templates)
        env.cr.commit()
        configure_oca(env, companies)
        env.cr.commit()
        env.cr.execute("SELECT count(*) FROM account_move WHERE ref LIKE 'BENCH-%%'")
        log(f"{env.cr.fetchone()[0]} invoices cloned")
    log(f"template {template} built in {time.monotonic() - started:.0f} s")
    print(template)


if __name__ == "__main__":
    main()
