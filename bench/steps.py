"""What the benchmark does inside Odoo, one function per step (``worker.py`` runs them in child
processes): our daily run (or one of its workers), OCA's credit lines and emails, delivering a
mail queue to the SMTP sink, paying 1 % of the open lines."""

import random
import time
from collections import Counter


def set_mail_server(env, port):
    """Every email goes to the local sink: one outgoing server, first in sequence, no
    encryption, no login; the companies get an alias domain, whose default sender the emails
    without one are sent from (as on a configured database)."""
    domain = env["mail.alias.domain"].search([], limit=1) or env["mail.alias.domain"].create(
        {"name": "bench.example.com"}
    )
    env["res.company"].search([("alias_domain_id", "=", False)]).alias_domain_id = domain
    env["ir.mail_server"].search([]).write({"active": False})
    env["ir.mail_server"].create(
        {"name": "Bench sink", "smtp_host": "127.0.0.1", "smtp_port": port,
         "smtp_encryption": "none", "smtp_authentication": "login", "sequence": 1}
    )  # fmt: skip
    env.cr.commit()


def run_ours(env, run_date, entry):
    """Our daily run: ``_run`` (one process) or ``_run_worker`` (one of several)."""
    engine = env["dunning.engine"]
    if entry == "worker":
        stats = engine._run_worker(run_date=run_date, commit=True)
    else:
        stats = engine._run(run_date=run_date, commit=True)
    env.cr.commit()
    return dict(Counter(stats or {}))


def outgoing(env):
    env.cr.execute("SELECT count(*) FROM mail_mail WHERE state = 'outgoing'")
    return env.cr.fetchone()[0]


def deliver(env, chunk=500):
    """Send the mail queue as the mail cron does (``mail.mail.send`` with a commit per batch),
    ``chunk`` mails at a time, until none is outgoing. Returns (mails handed over, failed)."""
    Mail = env["mail.mail"]
    sent, previous = 0, None
    while True:
        mails = Mail.search([("state", "=", "outgoing")], limit=chunk, order="id")
        if not mails or mails.ids == previous:
            break
        previous = mails.ids
        mails.send(auto_commit=True, raise_exception=False)
        sent += len(previous)
        env.cr.commit()
        env.invalidate_all()
    env.cr.execute("SELECT count(*) FROM mail_mail WHERE state = 'exception'")
    return {"handed_over": sent, "failed": env.cr.fetchone()[0], "left": outgoing(env)}


def oca_lines(env, run_date, attachment):
    """OCA's credit-line generation, one run per company with a policy: the runs' ids."""
    template = env.ref("account_credit_control.email_template_credit_control_base")
    if not attachment:
        template.report_template_ids = [(5, 0, 0)]
    env.cr.commit()
    runs = env["credit.control.run"]
    for company in env["res.company"].search([]):
        if not company.credit_policy_id:
            continue
        run = (
            env["credit.control.run"]
            .with_company(company)
            .create({"date": run_date, "company_id": company.id,
                     "policy_ids": [(6, 0, company.credit_policy_id.ids)]})
        )  # fmt: skip
        run.generate_credit_lines()
        runs |= run
    env.cr.commit()
    return runs, {"lines": len(runs.line_ids)}


def oca_queue(env, runs):
    """OCA's email phase with sending deferred to the mail queue: each communication's email is
    rendered and posted (``message_post_with_source``), its ``mail.mail`` left outgoing
    (``mail_notify_force_send=False``: ``_notify_thread_by_email`` does not send)."""
    for run in runs.with_context(mail_notify_force_send=False):
        run.set_to_ready_lines()
        run.run_channel_action()
        env.cr.commit()
    return {
        "communications": env["credit.control.communication"].search_count([]),
        "queued": outgoing(env),
    }


def pay_one_percent(env):
    """Pay 1 % of the open receivable lines owed (an instalment, or a one-line invoice), as a
    payment's reconciliation leaves the line and its document."""
    env.cr.execute(
        """SELECT aml.id FROM account_move_line aml
             JOIN account_account acc
               ON acc.id = aml.account_id AND acc.account_type = 'asset_receivable'
            WHERE aml.parent_state = 'posted' AND NOT aml.reconciled
              AND aml.amount_residual_currency > 0
            ORDER BY aml.id"""
    )
    ids = [r[0] for r in env.cr.fetchall()]
    paid = random.Random(7).sample(ids, max(1, len(ids) // 100))
    env.cr.execute(
        "UPDATE account_move_line SET amount_residual = 0, amount_residual_currency = 0, "
        "reconciled = true WHERE id = ANY(%s)",
        (paid,),
    )
    env.cr.execute(
        """UPDATE account_move m
              SET amount_residual = s.residual, amount_residual_signed = s.residual_company,
                  payment_state = CASE WHEN s.residual = 0 THEN 'paid' ELSE 'partial' END
             FROM (SELECT aml.move_id, sum(aml.amount_residual_currency) AS residual,
                          sum(aml.amount_residual) AS residual_company
                     FROM account_move_line aml
                     JOIN account_account acc
                       ON acc.id = aml.account_id AND acc.account_type = 'asset_receivable'
                    WHERE aml.move_id IN (SELECT move_id FROM account_move_line
                                           WHERE id = ANY(%s))
                    GROUP BY aml.move_id) s
            WHERE m.id = s.move_id""",
        (paid,),
    )
    env.cr.commit()
    env.invalidate_all()
    return {"paid": len(paid)}


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return round(time.perf_counter() - started, 2), value
