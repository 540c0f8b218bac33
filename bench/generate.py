"""Build a benchmark template database: two companies, N customers with invoice contacts and
a ledger of M open receivable lines (see ``plan.py``: invoices due from 20 days ahead to 200
days overdue, 10 % with instalments, some partly paid, two currencies; open credit notes and
payments on account for 10 % of the customers), with dunning_b2b and OCA
account_credit_control installed side by side.

Documents are cloned in SQL (``clone.py``) from a few posted through the ORM, in chunks of
50,000 documents each committed, so that M = 1,000,000 takes minutes per step and a bounded
memory. The template's name and its upgrades are ``template.py``'s (which calls this one).

    python3 bench/generate.py --lines 100000 --template NAME [--customers 10000]
"""

import argparse
import subprocess
import sys
import time
from datetime import date, timedelta

from clone import clone_documents
from common import CONF, ROOT, db_exists, drop_db, log, odoo_env, write_conf
from plan import TERM_NAMES, TERMS, plan_documents


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
        env.invalidate_all()  # 200,000 partners in the cache would not be bounded
        log(f"customers: {len(customers)}")
    return customers


def create_terms(env):
    """The instalment payment terms of the plan (shared by both companies)."""
    from odoo import Command  # noqa: PLC0415

    return {
        key: env["account.payment.term"].create(
            {"name": TERM_NAMES[key],
             "line_ids": [Command.clear()] + [
                 Command.create({"value": "percent", "value_amount": pct, "nb_days": days})
                 for days, pct in TERMS[key]]}
        )
        for key in TERMS
    }  # fmt: skip


def template_document(env, company, currency, partner, kind, term=None):
    """A document posted through the ORM, for the clones to copy: an invoice (on ``term``), a
    credit note, or a payment on account (its journal entry)."""
    from odoo import Command  # noqa: PLC0415

    day = date.today() - timedelta(days=400)
    if kind == "payment":
        journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        payment = (
            env["account.payment"]
            .with_company(company)
            .create(
                {"payment_type": "inbound", "partner_type": "customer",
                 "partner_id": partner.id, "amount": 100.0, "currency_id": currency.id,
                 "journal_id": journal.id, "date": day}
            )
        )  # fmt: skip
        payment.action_post()
        assert payment.move_id.state == "posted", "payments must have a journal entry"
        return payment.move_id
    move = (
        env["account.move"]
        .with_company(company)
        .create(
            {
                "move_type": "out_invoice" if kind == "invoice" else "out_refund",
                "partner_id": partner.id,
                "invoice_date": day,
                "currency_id": currency.id,
                "invoice_payment_term_id": term.id if term else False,
                "invoice_line_ids": [
                    Command.create({"name": "Bench goods", "quantity": 1, "price_unit": 100.0,
                                    "tax_ids": [Command.clear()]})
                ],
            }
        )
    )  # fmt: skip
    move.action_post()
    return move


def create_templates(env, companies, by_company):
    """{(company index, foreign?, kind, term key): (posted template, rate)}: every kind of
    document of the plan in each company and currency."""
    terms = create_terms(env)
    kinds = [("invoice", None)] + [("invoice", key) for key in TERMS]
    kinds += [("refund", None), ("payment", None)]
    templates = {}
    for index, (company, currency, foreign) in enumerate(companies):
        partner = env["res.partner"].browse(by_company[index][0])
        for is_foreign, cur in ((False, currency), (True, foreign)):
            rate = cur._get_conversion_rate(
                cur, company.currency_id, company, date.today() - timedelta(days=400)
            )
            for kind, term in kinds:
                move = template_document(env, company, cur, partner, kind, terms.get(term))
                receivable = move.line_ids.filtered(
                    lambda line: line.account_id.account_type == "asset_receivable"
                )
                assert len(receivable) == len(TERMS.get(term, [None]))
                assert len(move.line_ids) == len(receivable) + 1
                templates[(index, is_foreign, kind, term)] = (move, rate)
    return templates


def cancel_templates(templates):
    """The templates served their purpose: cancelled, the ledger holds the planned lines only."""
    for move, _rate in templates.values():
        if move.origin_payment_id:
            move.origin_payment_id.action_cancel()
        else:
            move.button_cancel()


def describe(env):
    """What the ledger holds, read back from the database."""
    env.cr.execute(
        """SELECT count(*) FILTER (WHERE aml.amount_residual_currency > 0),
                  count(*) FILTER (WHERE aml.amount_residual_currency < 0),
                  count(DISTINCT aml.move_id) FILTER (WHERE aml.amount_residual_currency > 0),
                  count(DISTINCT aml.partner_id) FILTER (WHERE aml.amount_residual_currency < 0)
             FROM account_move_line aml
             JOIN account_account acc ON acc.id = aml.account_id
            WHERE acc.account_type = 'asset_receivable' AND aml.parent_state = 'posted'
              AND NOT aml.reconciled"""
    )
    debits, credits, moves, creditors = env.cr.fetchone()
    env.cr.execute(
        """SELECT count(*) FROM account_move m WHERE m.state = 'posted'
              AND m.move_type = 'out_invoice' AND m.invoice_payment_term_id IS NOT NULL"""
    )
    instalments = env.cr.fetchone()[0]
    return (
        f"{debits + credits} open receivable lines: {debits} owed on {moves} documents "
        f"({instalments} invoices with instalments), {credits} open credits of {creditors} "
        "customers"
    )


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


def clone_in_chunks(env, by_company, lines, templates, chunk=50000):
    """Plan and clone the ledger ``chunk`` documents at a time, each chunk committed."""
    count, batch = 0, []
    for doc in plan_documents(by_company, lines, date.today()):
        batch.append(doc)
        if len(batch) == chunk:
            clone_documents(env, batch, templates)
            env.cr.commit()
            count += len(batch)
            batch = []
            log(f"documents cloned: {count}")
    if batch:
        clone_documents(env, batch, templates)
        env.cr.commit()
        count += len(batch)
    return count


def build(template, lines, customers_count, addon_hash):
    """Install both addons on ``template`` and write the dataset; records the addon's hash and
    the build's timings in ``ir.config_parameter`` (bench.addon_hash, bench.build_seconds)."""
    started = time.monotonic()
    install(template)
    installed = time.monotonic() - started
    with odoo_env(template) as env:
        companies = setup_companies(env)
        env.cr.commit()
        customers = create_customers(env, customers_count).ids
        split = int(len(customers) * 0.8)
        by_company = {0: customers[:split], 1: customers[split:]}
        templates = create_templates(env, companies, by_company)
        env.cr.commit()
        cloned = time.monotonic()
        count = clone_in_chunks(env, by_company, lines, templates)
        clone_s = time.monotonic() - cloned
        log(f"{count} documents planned and cloned in {clone_s:.0f} s")
        cancel_templates(templates)
        configure_oca(env, companies)
        env.cr.commit()
        log(describe(env))
        total = time.monotonic() - started
        params = env["ir.config_parameter"]
        params.set_param("bench.addon_hash", addon_hash)
        params.set_param(
            "bench.build_seconds",
            f"total {total:.0f}, install {installed:.0f}, documents {clone_s:.0f}",
        )
        env.cr.commit()
    log(f"template {template} built in {total:.0f} s")


def main():
    from template import addon_hash  # noqa: PLC0415 - template.py imports this module

    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100000, help="open receivable lines")
    parser.add_argument("--customers", type=int, help="default: one per 10 lines")
    parser.add_argument("--template", required=True)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    write_conf()
    if db_exists(args.template) and not args.force:
        log(f"{args.template} exists (use --force to rebuild)")
        return
    build(args.template, args.lines, args.customers or max(args.lines // 10, 1), addon_hash())
    print(args.template)


if __name__ == "__main__":
    main()
