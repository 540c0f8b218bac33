from datetime import date, timedelta

from odoo import Command
from odoo.tests import new_test_user
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

RUN_DATE = date(2026, 3, 2)


class DunningCommon(AccountTestInvoicingCommon):
    """A company with the standard ladder, a collector, and helpers to invoice and run."""

    @classmethod
    def get_default_groups(cls):
        # The test's own user configures ladders: a dunning manager.
        return super().get_default_groups() | cls.env.ref("dunning_b2b.group_dunning_manager")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.run_date = RUN_DATE
        cls.company = cls.env.company
        cls.policy = cls.company._dunning_get_default_policy()
        cls.levels = cls.policy.level_ids.sorted("day_offset")
        (cls.pre_due, cls.follow_up, cls.formal, cls.escalation, cls.final) = cls.levels
        cls.collector = new_test_user(
            cls.env,
            login="collector",
            name="Colette Collector",
            email="colette@company.test",
            groups="dunning_b2b.group_dunning_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            login="dunning_manager",
            name="Max Manager",
            email="max@company.test",
            groups="dunning_b2b.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.invoicing_user = new_test_user(
            cls.env,
            login="invoicing_only",
            name="Ivo Invoicing",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.company.dunning_collector_id = cls.collector
        cls.customer = cls._customer("Acme Trading", "ap@acme.test")

    @classmethod
    def _customer(cls, name, email=None, **vals):
        return cls.env["res.partner"].create(
            {"name": name, "is_company": True, "email": email, **vals}
        )

    @classmethod
    def _invoice(cls, partner, days_overdue, amount, currency=None, company=None, ref=None):
        """A posted invoice that is ``days_overdue`` days past due on RUN_DATE."""
        due = RUN_DATE - timedelta(days=days_overdue)
        move = cls._invoice_on(
            partner, due - timedelta(days=30), due, amount, currency, company, ref or f"PO-{amount}"
        )
        assert move.invoice_date_due == due, (move.invoice_date_due, due)
        return move

    @classmethod
    def _invoice_on(cls, partner, invoice_date, due, amount, currency=None, company=None, ref=None):
        """A posted invoice of ``amount`` dated ``invoice_date``, due on ``due``."""
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": due,
                    "ref": ref,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Consulting",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _run(self, run_date=None, **kwargs):
        # As the scheduler does: the engine's own writes are not the current user's.
        return self.env["dunning.engine"].sudo()._run(run_date=run_date or self.run_date, **kwargs)

    def _messages(self, partner=None):
        return self.env["dunning.message"].search(
            [("partner_id", "=", (partner or self.customer).id)], order="id"
        )

    def _events(self, move, event_type=None):
        events = move.dunning_event_ids
        return events.filtered(lambda e: e.event_type == event_type) if event_type else events

    @classmethod
    def _paid_invoice(cls, partner, invoice_date, due, amount, paid_on):
        """A posted invoice of ``amount``, due on ``due``, paid in full on ``paid_on``."""
        move = cls._invoice_on(partner, invoice_date, due, amount)
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": amount, "payment_date": paid_on})._create_payments()
        return move

    def _as_computed_again(self, compute, read):
        """What ``read()`` returns once ``compute()`` has computed again from the ledger, the
        database then left as it was: a chain of daily runs goes on from what they wrote."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SAVEPOINT as_computed_again"))
        try:
            compute()
            self.env.flush_all()
            self.env.invalidate_all()
            return read()
        finally:
            self.env.cr.execute(SQL("ROLLBACK TO SAVEPOINT as_computed_again"))
            self.env.invalidate_all()

    def _pay(self, move, amount):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create(
            {"amount": amount, "payment_date": RUN_DATE - timedelta(days=1)}
        )._create_payments()
