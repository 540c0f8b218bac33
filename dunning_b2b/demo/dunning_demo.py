from datetime import timedelta

from odoo import Command, api, fields, models

# (customer xml id, [(days overdue today, amount, currency code or None, paid part)])
DEMO_INVOICES = [
    ("partner_northwind_demo", [(-6, 1840.0, None, 0), (-3, 620.0, None, 0)]),
    ("partner_contoso_demo", [(4, 2350.0, None, 0), (9, 980.0, None, 0)]),
    ("partner_fabrikam_demo", [(7, 4200.0, None, 1500.0)]),
    ("partner_initech_demo", [(17, 3150.0, None, 0)]),
    ("partner_globex_demo", [(27, 5600.0, None, 0), (33, 1275.0, None, 0)]),
    ("partner_umbrella_demo", [(58, 12800.0, None, 0)]),
    ("partner_stark_demo", [(49, 7400.0, "EUR", 0), (20, 2100.0, "EUR", 0)]),
    ("partner_wayne_demo", [(118, 9900.0, None, 0), (97, 4300.0, None, 0)]),
    ("partner_acme_demo", [(12, 760.0, None, 0)]),
    ("partner_hooli_demo", [(25, 3000.0, None, 3000.0)]),
    ("partner_soylent_demo", [(30, 2600.0, None, 0)]),
]
# This customer's invoice was excluded by hand while it stood at the early follow-up.
EXCLUDED_PARTNER, EXCLUDED_ON_DAY = "partner_soylent_demo", 25


class DunningEngine(models.AbstractModel):
    _inherit = "dunning.engine"

    @api.model
    def _demo_create_history(self, days=130):
        """Demo data: invoices of the demo customers, then the daily run replayed over the past
        ``days`` days, with a collector sending the reviewed messages two days later, so that
        customers stand at every stage with the emails of earlier stages in their history."""
        company = self.env.ref("base.main_company")
        # No PDF letters while replaying history at install: no server serves their styles.
        self = self.with_company(company).with_context(dunning_no_letter=True)
        today = fields.Date.context_today(self)
        moves = self.env["account.move"]
        for xmlid, lines in DEMO_INVOICES:
            partner = self.env.ref(f"dunning_b2b.{xmlid}")
            for days_overdue, amount, currency_code, paid in lines:
                move = self._demo_invoice(
                    company, partner, today, days_overdue, amount, currency_code
                )
                moves |= move
                if paid:
                    self.env["account.payment.register"].with_context(
                        active_model="account.move", active_ids=move.ids
                    ).create(
                        {"amount": paid, "payment_date": move.invoice_date_due - timedelta(days=1)}
                    )._create_payments()
        excluded = moves.filtered(
            lambda m: m.partner_id == self.env.ref(f"dunning_b2b.{EXCLUDED_PARTNER}")
        )
        collector = self.env.ref("dunning_b2b.user_collector_demo")
        final = self.env.ref("dunning_b2b.dunning_level_final")
        for day in range(days, 0, -1):
            run_date = today - timedelta(days=day)
            self.env.flush_all()
            last_message = self.env["mail.message"].search([], order="id desc", limit=1).id
            last_event = self.env["dunning.event"].search([], order="id desc", limit=1).id or 0
            if day == EXCLUDED_ON_DAY:
                excluded.with_user(collector).action_dunning_exclude()
            self._run(run_date=run_date, companies=company)
            reviewed = self.env["dunning.message"].search(
                [("state", "=", "draft"), ("date", "<=", run_date - timedelta(days=2)),
                 ("company_id", "=", company.id)]
            )  # fmt: skip
            reviewed._send(user=collector)
            # The collector works the tasks within three days.
            worked = self.env["mail.activity"].search(
                [("user_id", "=", collector.id),
                 ("date_deadline", "<=", run_date - timedelta(days=3))]
            )  # fmt: skip
            worked.filtered(lambda a: a.summary != final.name).action_feedback(feedback="Done")
            # Date the day's chatter as the day it happened.
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE mail_message SET date = %s::date + interval '9 hours' WHERE id > %s",
                (run_date, last_message),
            )
            # Emails sent and calls made that day are dated that day, too.
            self.env.cr.execute(
                "UPDATE dunning_event SET date = %s WHERE id > %s AND date > %s",
                (run_date, last_event, run_date),
            )
            self.env["dunning.event"].invalidate_model(["date"])
        self.env["mail.message"].invalidate_model(["date"])
        # The worklist as the collector finds it this morning.
        self.env["dunning.worklist"]._refresh(company, today, collector)
        return moves

    @api.model
    def _demo_invoice(self, company, partner, today, days_overdue, amount, currency_code):
        due = today - timedelta(days=days_overdue)
        currency = company.currency_id
        if currency_code:
            currency = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", currency_code)], limit=1)
            )
            currency.active = True
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": due - timedelta(days=30),
                "invoice_date_due": due,
                "currency_id": currency.id,
                "ref": f"PO-{partner.id}{abs(days_overdue):03d}",
                "invoice_user_id": self.env.ref("base.user_admin").id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Industrial supplies", "quantity": 1, "price_unit": amount,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        move.action_post()
        return move
