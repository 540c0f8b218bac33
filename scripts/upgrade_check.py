"""Run through `odoo shell`: commit some dunning history on the test database, or count it.

upgrade_check.py make   -> creates history, commits, prints the counts
upgrade_check.py count  -> prints the counts
"""
# ruff: noqa: F821 - `env` is given by `odoo shell`

import sys
from datetime import date, timedelta

MODELS = ("dunning.event", "dunning.message", "dunning.promise", "dunning.dispute")


def counts():
    return " ".join(f"{model}={env[model].sudo().search_count([])}" for model in MODELS)


def make():
    today = date.today()
    partner = env["res.partner"].create(
        {"name": "Upgrade Check Co", "email": "ap@upgrade.example.com", "is_company": True}
    )
    moves = env["account.move"]
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
