from datetime import timedelta

from odoo import Command, api, fields, models

# A year of history for the collections KPIs: customers with their own payment habits.
# (name, email, [days after the due date the nth invoice is paid, None: still open]);
# "W" writes the invoice off 120 days after its due date.
HISTORY_CUSTOMERS = [
    ("Brightline Tools", "ap@brightline.example.com", [-3] * 12),
    (
        "Harbor Freight Lines",
        "payables@harbor.example.com",
        [8, 6, 10, 9, 7, 8, 11, 6, 9, 8, 7, None],
    ),
    (
        "Nordic Timber AB",
        "ekonomi@nordictimber.example.com",
        [25, 22, 28, 24, 30, 26, 23, 27, 29, 25, None, None],
    ),
    (
        "Pinecrest Clinics",
        "finance@pinecrest.example.com",
        [-2, 4, 3, 5, 2, 20, 48, 52, 55, None, None, None],
    ),
    (
        "Redwood Builders",
        "accounts@redwood.example.com",
        [20, "W", 18, 35, 22, 19, 60, 21, 24, None, None, None],
    ),
    (
        "Summit Office Supply",
        "ap@summit.example.com",
        [-2, 12, -1, 9, -3, 14, -2, 11, -1, 10, -2, None],
    ),
]
HISTORY_DAYS = 365
INVOICE_EVERY = 28
WRITE_OFF_AFTER = 120


class DunningEngine(models.AbstractModel):
    _inherit = "dunning.engine"

    @api.model
    def _demo_create_history(self, days=130):
        moves = super()._demo_create_history(days=days)
        self._demo_create_payment_history()
        return moves

    @api.model
    def _demo_create_payment_history(self):
        """A year of invoices of customers who pay at different stages, with the daily run
        replayed for them alone, payments registered on their day and one write-off: the
        collections KPIs then have a history to show."""
        company = self.env.ref("base.main_company")
        # No PDF letters for the emails of the past (only shown, never sent).
        self = self.with_company(company).with_context(dunning_no_letter=True)
        today = fields.Date.context_today(self)
        bad_debt = self._demo_bad_debt_account(company)
        partners = self.env["res.partner"].create(
            [{"name": name, "email": email, "is_company": True}
             for name, email, _habits in HISTORY_CUSTOMERS]
        )  # fmt: skip
        specs, habits = [], []
        for partner, (name, _email, partner_habits) in zip(
            partners, HISTORY_CUSTOMERS, strict=True
        ):
            for index, habit in enumerate(partner_habits):
                days_overdue = HISTORY_DAYS - 20 - index * INVOICE_EVERY
                amount = 1150.0 + 175 * ((index * 7 + len(name)) % 9)
                specs.append((partner, days_overdue, amount, None))
                habits.append(habit)
        moves = self._demo_invoices(company, today, specs)
        plan = {}  # day -> [(invoice, "pay" | "writeoff")]
        for move, habit in zip(moves, habits, strict=True):
            due = move.invoice_date_due
            if habit == "W":
                day, action = due + timedelta(days=WRITE_OFF_AFTER), "writeoff"
            elif habit is not None:
                day, action = due + timedelta(days=habit), "pay"
            else:
                continue
            if day < today:
                plan.setdefault(day, []).append((move, action))
        # A run restricted to customers only moves lines to the stage their age calls for:
        # replaying the days a line reaches a stage, and the days of payments, gives the
        # history a run every day would give.
        offsets = set(self.env["dunning.level"].search([]).mapped("day_offset"))
        days = {
            due + timedelta(days=offset)
            for due in set(moves.mapped("invoice_date_due"))
            for offset in offsets
        } | set(plan)
        first = today - timedelta(days=HISTORY_DAYS)
        collector = self.env.ref("dunning_b2b.user_collector_demo")
        for run_date in sorted(day for day in days if first <= day < today):
            self.env.flush_all()
            last_message = self.env["mail.message"].search([], order="id desc", limit=1).id
            for move, action in plan.get(run_date, ()):
                if action == "pay":
                    self.env["account.payment.register"].with_context(
                        active_model="account.move", active_ids=move.ids
                    ).create({"payment_date": run_date})._create_payments()
                else:
                    self._demo_write_off(move, bad_debt, run_date)
            self._run(run_date=run_date, partners=partners, user=collector)
            self.env["dunning.message"].search(
                [("state", "=", "draft"), ("partner_id", "in", partners.ids)]
            )._send(user=collector)
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE mail_message SET date = %s::date + interval '9 hours' WHERE id > %s",
                (run_date, last_message),
            )
        self.env["mail.message"].invalidate_model(["date"])
        self.env["dunning.kpi"]._refresh_company(company, today)

    @api.model
    def _demo_bad_debt_account(self, company):
        account = self.env["account.account"].search(
            [("code", "=", "681900"), ("company_ids", "in", company.id)], limit=1
        ) or self.env["account.account"].create(
            {"name": "Bad debts", "code": "681900", "account_type": "expense"}
        )
        company.dunning_bad_debt_account_id = account
        return account

    @api.model
    def _demo_write_off(self, move, account, day):
        receivable = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        journal = self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", move.company_id.id)], limit=1
        )
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": day,
                "journal_id": journal.id,
                "ref": self.env._("Write-off of %(invoice)s", invoice=move.name),
                "line_ids": [
                    Command.create(
                        {"name": move.name, "account_id": account.id,
                         "debit": move.amount_residual_signed}
                    ),
                    Command.create(
                        {"name": move.name, "account_id": receivable.account_id.id,
                         "partner_id": move.commercial_partner_id.id,
                         "credit": move.amount_residual_signed}
                    ),
                ],
            }
        )  # fmt: skip
        entry.action_post()
        (
            receivable
            | entry.line_ids.filtered(lambda line: line.account_id == receivable.account_id)
        ).reconcile()
