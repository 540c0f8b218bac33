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
    ("partner_vandelay_demo", [(40, 4100.0, None, 0)]),
    ("partner_piedpiper_demo", [(30, 2750.0, None, 0)]),
    ("partner_cyberdyne_demo", [(20, 1980.0, None, 0), (-5, 860.0, None, 0)]),
]
# This customer's invoice was excluded by hand while it stood at the early follow-up.
EXCLUDED_PARTNER, EXCLUDED_ON_DAY = "partner_soylent_demo", 25
# A key account whose hold proposal the manager applied the day after the ladder proposed it.
HELD_PARTNER = "partner_wayne_demo"


class DunningEngine(models.AbstractModel):
    _inherit = "dunning.engine"

    @api.model
    def _demo_create_history(self, days=130):
        """Demo data: invoices of the demo customers, then the daily run replayed over the past
        ``days`` days, with a collector sending the reviewed messages two days later, so that
        customers stand at every stage with the emails of earlier stages in their history."""
        company = self.env.ref("base.main_company")
        # No PDF letters while replaying history at install (the emails of the past are
        # only shown, never sent); no KPIs every replayed day, only today's at the end.
        self = self.with_company(company).with_context(
            dunning_no_letter=True, dunning_demo_replay=True
        )
        today = fields.Date.context_today(self)
        specs = [
            (self.env.ref(f"dunning_b2b.{xmlid}"), days_overdue, amount, currency_code, paid)
            for xmlid, lines in DEMO_INVOICES
            for days_overdue, amount, currency_code, paid in lines
        ]
        moves = self._demo_invoices(
            company, today, [spec[:4] for spec in specs]
        )  # fmt: skip
        for move, spec in zip(moves, specs, strict=True):
            if spec[4]:
                self.env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=move.ids
                ).create(
                    {"amount": spec[4], "payment_date": move.invoice_date_due - timedelta(days=1)}
                )._create_payments()
        moves |= self._demo_ledger_cases(company, today)
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
            self._demo_conversations(day, run_date, collector)
            self._run(run_date=run_date, companies=company)
            reviewed = self.env["dunning.message"].search(
                [("state", "=", "draft"), ("date", "<=", run_date - timedelta(days=2)),
                 ("company_id", "=", company.id)]
            )  # fmt: skip
            reviewed._send(user=collector, date=run_date)
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
    def _demo_decide_holds(self):
        """Demo data: the manager applies the hold proposed on Wayne Logistics (a key account,
        so the escalation stage only proposed it), so that one customer is really held."""
        company = self.env.ref("base.main_company")
        partner = self.env.ref(f"dunning_b2b.{HELD_PARTNER}")
        admin = self.env.ref("base.user_admin")
        Hold = self.env["dunning.credit.hold"].with_company(company)
        hold = Hold._get_open(partner, company)
        if not hold:
            hold = Hold.with_user(admin)._set_by_manager(
                partner, "Two invoices more than 90 days overdue"
            )
        elif hold.state == "proposed":
            # Decided the day after the ladder last reached the hold's stage for this customer.
            reached = self.env["dunning.event"].search(
                [("partner_id", "=", partner.id), ("level_id", "=", hold.level_id.id),
                 ("event_type", "=", "stage")], order="date desc", limit=1,
            ).date or hold.date_proposed or fields.Date.context_today(self)  # fmt: skip
            hold._activate(reached + timedelta(days=1), admin)
        return hold

    @api.model
    def _get_daily_steps(self):
        steps = super()._get_daily_steps()
        if self.env.context.get("dunning_demo_replay"):
            # Demo data: each refresh recomputes twelve months of KPIs; the replayed past
            # needs them once, for today, at the end (_demo_create_payment_history).
            steps = [
                step for step in steps if step[2] not in ("_refresh_profiles", "_refresh_kpis")
            ]
        return steps

    @api.model
    def _demo_invoices(self, company, today, specs):
        """Posted invoices, created in one call: ``specs`` are (customer, days overdue today,
        amount, currency code or None); the invoices are returned in that order."""
        admin = self.env.ref("base.user_admin")
        vals_list = []
        for partner, days_overdue, amount, currency_code in specs:
            due = today - timedelta(days=days_overdue)
            currency = company.currency_id
            if currency_code:
                currency = (
                    self.env["res.currency"]
                    .with_context(active_test=False)
                    .search([("name", "=", currency_code)], limit=1)
                )
                currency.active = True
            vals_list.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": due - timedelta(days=30),
                    "invoice_date_due": due,
                    "currency_id": currency.id,
                    "ref": f"PO-{partner.id}{abs(days_overdue):03d}",
                    "invoice_user_id": admin.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Industrial supplies", "quantity": 1, "price_unit": amount,
                             "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )  # fmt: skip
        moves = self.env["account.move"].create(vals_list)
        moves.action_post()
        return moves

    @api.model
    def _demo_ledger_cases(self, company, today):
        """What a real ledger holds besides plain invoices: an invoice in two instalments
        (the first one overdue, the second not yet due), a credit note that covers part of
        what a customer owes, and one that covers all of it."""
        term = self.env["account.payment.term"].create(
            {
                "name": "50% at 30 days, 50% at 90 days",
                "company_id": company.id,
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 30}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 90}),
                ],
            }
        )
        initech = self.env.ref("dunning_b2b.partner_initech_demo")
        instalments = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": initech.id,
                "invoice_date": today - timedelta(days=70),
                "invoice_payment_term_id": term.id,
                "ref": f"PO-{initech.id}-MACHINES",
                "invoice_user_id": self.env.ref("base.user_admin").id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Packaging machine", "quantity": 1, "price_unit": 8400.0,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        credits = self.env["account.move"]
        for xmlid, amount, days_ago in (
            ("partner_acme_demo", 300.0, 6),  # part of its 760.00
            ("partner_contoso_demo", 3330.0, 3),  # all of its 2,350.00 + 980.00
        ):
            credits |= self.env["account.move"].create(
                {
                    "move_type": "out_refund",
                    "partner_id": self.env.ref(f"dunning_b2b.{xmlid}").id,
                    "invoice_date": today - timedelta(days=days_ago),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Returned pallets", "quantity": 1, "price_unit": amount,
                             "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )  # fmt: skip
        (instalments | credits).action_post()
        return instalments

    @api.model
    def _demo_conversations(self, day, run_date, collector):
        """What buyers told the collector, on the replayed day it happened: a promise that
        will be broken, a pricing dispute owned by the salesperson, a promise that is kept."""
        # sudo: demo data: the collector's actions, dated by the replay (dunning_today)
        env = self.with_user(collector).sudo().with_context(dunning_today=run_date).env

        def invoice(xmlid):
            return env["account.move"].search(
                [("partner_id", "=", env.ref(f"dunning_b2b.{xmlid}").id),
                 ("move_type", "=", "out_invoice"), ("state", "=", "posted")],
                order="invoice_date_due", limit=1,
            )  # fmt: skip

        def log(move, kind, outcome, note, channel="call"):
            return (
                env["dunning.call.log"]
                .create(
                    {"partner_id": move.commercial_partner_id.id, "kind": kind,
                     "channel": channel, "move_ids": [Command.set(move.ids)],
                     "outcome": outcome, "note": note}
                )
                .action_confirm()
            )  # fmt: skip

        if day == 33:
            move = invoice("partner_vandelay_demo")
            action = log(move, "call", "promised", "Treasurer promises a transfer in two weeks.")
            env["dunning.promise"].with_context(**action["context"]).create(
                {"promise_date": run_date + timedelta(days=13)}
            )
        elif day == 26:
            move = invoice("partner_piedpiper_demo")
            move.invoice_user_id = env.ref("dunning_b2b.user_salesperson_demo")
            action = log(
                move, "response", "disputes",
                "Unit price is 10% above the quotation they signed.", channel="email",
            )  # fmt: skip
            env["dunning.dispute"].with_context(**action["context"]).create({"reason": "pricing"})
        elif day == 17:
            move = invoice("partner_cyberdyne_demo")
            action = log(move, "call", "promised", "Payment scheduled in their next run.")
            env["dunning.promise"].with_context(**action["context"]).create(
                {"promise_date": run_date + timedelta(days=5)}
            )
        elif day == 13:
            move = invoice("partner_cyberdyne_demo")
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=move.ids
            ).create({"payment_date": run_date})._create_payments()
