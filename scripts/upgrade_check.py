"""Run through `odoo shell`: commit some dunning history on the test database, or count it.

upgrade_check.py make   -> creates history, commits, prints the counts
upgrade_check.py count  -> prints the counts
"""
# ruff: noqa: F821 - `env` is given by `odoo shell`

import sys
from datetime import date, timedelta

MODELS = ("dunning.event", "dunning.message", "dunning.promise", "dunning.dispute")


def staged_lines():
    """Open receivable lines at each stage: on the invoice header before 19.0.2.0.0, in
    dunning_line since; "5 (12:3,13:2)" = 5 lines, 3 at stage 12 and 2 at stage 13."""
    env.cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'account_move' AND column_name = 'dunning_level_id'"""
    )
    if env.cr.fetchone():
        env.cr.execute(
            """SELECT m.dunning_level_id, count(*) FROM account_move_line aml
                 JOIN account_move m ON m.id = aml.move_id
                 JOIN account_account acc ON acc.id = aml.account_id
                WHERE m.dunning_level_id IS NOT NULL AND acc.account_type = 'asset_receivable'
                  AND aml.balance > 0 AND NOT aml.reconciled AND aml.parent_state = 'posted'
             GROUP BY 1 ORDER BY 1"""
        )
    else:
        env.cr.execute(
            """SELECT level_id, count(*) FROM dunning_line
                WHERE level_id IS NOT NULL GROUP BY 1 ORDER BY 1"""
        )
    rows = env.cr.fetchall()
    detail = ",".join(f"{level}:{count}" for level, count in rows)
    return f"{sum(count for _level, count in rows)} ({detail})"


def counts():
    parts = [f"{model}={env[model].sudo().search_count([])}" for model in MODELS]
    return " ".join([*parts, f"staged_lines={staged_lines()}"])


def make():
    today = date.today()
    partner = env["res.partner"].create(
        {"name": "Upgrade Check Co", "email": "ap@upgrade.example.com", "is_company": True}
    )
    moves = env["account.move"]
    term = env["account.payment.term"].create(
        {"name": "Upgrade check halves", "line_ids": [
            (0, 0, {"value": "percent", "value_amount": 50, "nb_days": 30}),
            (0, 0, {"value": "percent", "value_amount": 50, "nb_days": 60})]}
    )  # fmt: skip
    instalments = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": today - timedelta(days=100),
            "invoice_payment_term_id": term.id,
            "invoice_line_ids": [
                (0, 0, {"name": "Check", "quantity": 1, "price_unit": 800.0,
                        "tax_ids": [(5, 0, 0)]})
            ],
        }
    )  # fmt: skip
    instalments.action_post()
    for days in (5, 20, 60):
        move = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": today - timedelta(days=days + 30),
                "invoice_date_due": today - timedelta(days=days),
                "invoice_line_ids": [
                    (0, 0, {"name": "Check", "quantity": 1, "price_unit": 100.0 * days,
                            "tax_ids": [(5, 0, 0)]})
                ],
            }
        )  # fmt: skip
        move.action_post()
        moves |= move
    env["dunning.engine"]._run(partners=partner)
    env["dunning.promise"].create(
        {"partner_id": partner.id, "move_ids": [(6, 0, moves[:1].ids)], "amount": 100.0,
         "promise_date": today + timedelta(days=7)}
    )  # fmt: skip
    env["dunning.dispute"].create(
        {"move_id": moves[1].id, "reason": "pricing", "owner_id": env.ref("base.user_admin").id}
    )
    env.cr.commit()


if sys.argv[-1] == "make":
    make()
print(counts())
