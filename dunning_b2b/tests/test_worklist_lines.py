from datetime import date, timedelta

from odoo import Command
from odoo.tests import Form, freeze_time, tagged

from .common import RUN_DATE, DunningCommon
from .test_kpi import KpiCommon


class LinesCommon(DunningCommon):
    """Open items that are not one invoice header: instalments, credit notes, payments on
    account, credits in another currency."""

    @classmethod
    def _instalment_invoice(cls, partner, invoice_date, amount):
        """A posted invoice of ``amount``: half due 30 days after ``invoice_date``, half 90."""
        term = cls.env["account.payment.term"].create(
            {
                "name": "50 % at 30 days, 50 % at 90 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 30}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 90}),
                ],
            }
        )
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Consulting", "quantity": 1, "price_unit": amount,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        move.action_post()
        return move

    @classmethod
    def _credit_note(cls, partner, amount, day, currency=None):
        """A posted credit note of ``amount``, left open (not matched with any invoice)."""
        move = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": day,
                "currency_id": (currency or cls.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Goods returned", "quantity": 1, "price_unit": amount,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        move.action_post()
        return move

    @classmethod
    def _payment_on_account(cls, partner, amount, day):
        """Money received from ``partner`` and not matched with any invoice yet."""
        bank = cls.company_data["default_journal_bank"].default_account_id
        receivable = partner.with_company(cls.company).property_account_receivable_id
        entry = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "date": day,
                "journal_id": cls.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"name": "Payment", "account_id": bank.id, "debit": amount}),
                    Command.create({"name": "Payment on account", "account_id": receivable.id,
                                    "partner_id": partner.id, "credit": amount}),
                ],
            }
        )  # fmt: skip
        entry.action_post()
        return entry


@tagged("post_install", "-at_install")
class TestWorklistLines(LinesCommon):
    """The worklist and the customer's figures read receivable lines, net of open credits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One weight for every risk level: priority = net overdue amount x days overdue.
        cls.company.write(
            {"dunning_weight_low": 1, "dunning_weight_medium": 1, "dunning_weight_high": 1}
        )
        cls.Worklist = cls.env["dunning.worklist"]

    def _refresh(self):
        with freeze_time(RUN_DATE):
            self.Worklist._refresh(self.company, RUN_DATE)

    def _row(self, partner):
        return self.Worklist.with_user(self.collector).search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def test_instalment_overdue_on_its_own_due_date(self):
        """First instalment (500) 30 days overdue, second due in 30 days: the header's due
        date is the last instalment's, but the worklist shows the first one overdue."""
        move = self._instalment_invoice(self.customer, RUN_DATE - timedelta(days=60), 1000)
        self.assertEqual(move.invoice_date_due, RUN_DATE + timedelta(days=30))
        self._refresh()
        row = self._row(self.customer)
        self.assertRecordValues(row, [{
            "overdue_amount": 500.0, "max_days_overdue": 30, "open_count": 2,
            "exposure": 1000.0, "priority": 500.0 * 30,
        }])  # fmt: skip
        self.assertTrue(row.needs_action, "never contacted, 500 overdue")
        with freeze_time(RUN_DATE):
            partner = self.customer.with_user(self.collector).with_company(self.company)
            self.assertEqual(partner.dunning_overdue_amount, 500.0)
            self.assertEqual(partner.dunning_open_count, 2)

    def test_instalment_stage_after_the_run(self):
        """The run puts the first instalment (30 days overdue) at the formal notice; the
        worklist and the customer show that stage, the second instalment none yet."""
        self._instalment_invoice(self.customer, RUN_DATE - timedelta(days=60), 1000)
        with freeze_time(RUN_DATE):
            self._run()
        row = self._row(self.customer)
        self.assertRecordValues(row, [{
            "level_id": self.formal.id, "overdue_amount": 500.0, "max_days_overdue": 30,
        }])  # fmt: skip
        with freeze_time(RUN_DATE):
            partner = self.customer.with_user(self.collector).with_company(self.company)
            self.assertEqual(partner.dunning_level_id, self.formal)
            found = self.env["res.partner"].search([("dunning_level_id", "in", self.formal.ids)])
        self.assertEqual(found, self.customer)

    def test_credit_note_covering_the_overdue(self):
        """An open credit note of 1,000 covers the 1,000 overdue: nothing overdue, no
        priority, nothing to chase; the collector is told to apply the credit."""
        self._invoice(self.customer, 20, 1000)
        self._credit_note(self.customer, 1000, RUN_DATE - timedelta(days=5))
        self._refresh()
        row = self._row(self.customer)
        self.assertRecordValues(row, [{
            "overdue_amount": 0.0, "priority": 0.0, "exposure": 0.0, "needs_action": False,
            "max_days_overdue": 0, "open_count": 1,
        }])  # fmt: skip
        self.assertEqual(row.next_action, "Apply the open credit")
        with freeze_time(RUN_DATE):
            partner = self.customer.with_user(self.collector).with_company(self.company)
            self.assertEqual(partner.dunning_overdue_amount, 0.0)

    def test_partial_credit_and_payment_on_account(self):
        """A credit note of 300 and a payment on account of 200 leave 500 of the 1,000
        overdue; the priority shrinks with it (500 x 20 days)."""
        self._invoice(self.customer, 20, 1000)
        self._credit_note(self.customer, 300, RUN_DATE - timedelta(days=5))
        self._payment_on_account(self.customer, 200, RUN_DATE - timedelta(days=2))
        self._refresh()
        self.assertRecordValues(self._row(self.customer), [{
            "overdue_amount": 500.0, "priority": 500.0 * 20, "exposure": 500.0,
            "max_days_overdue": 20, "needs_action": True,
        }])  # fmt: skip

    def test_eur_credit_does_not_net_a_usd_invoice(self):
        """700 overdue in the company's currency (USD), an open USD credit of 200 and an open
        EUR credit of 1,000 EUR (500 USD): 500 overdue, the EUR credit nets nothing, not even
        the exposure (which is never below zero in a currency)."""
        eur = self.setup_other_currency("EUR", rates=[("2020-01-01", 2.0)])
        self._invoice(self.customer, 20, 700)
        self._credit_note(self.customer, 200, RUN_DATE - timedelta(days=5))
        self._credit_note(self.customer, 1000, RUN_DATE - timedelta(days=5), currency=eur)
        self._refresh()
        self.assertRecordValues(self._row(self.customer), [{
            "overdue_amount": 500.0, "priority": 500.0 * 20, "exposure": 500.0,
        }])  # fmt: skip

    def test_cents_left_open_are_not_chased(self):
        """0.02 left open after a payment is below the ladder's minimum: not to chase."""
        move = self._invoice(self.customer, 20, 100)
        self._pay(move, 99.98)
        self._refresh()
        row = self._row(self.customer)
        self.assertAlmostEqual(row.overdue_amount, 0.02)
        self.assertFalse(row.needs_action)

    def test_call_log_on_an_instalment_invoice(self):
        """A call about the invoice logs what its open lines owe and the oldest one's age,
        not the header's last due date."""
        move = self._instalment_invoice(self.customer, RUN_DATE - timedelta(days=60), 1000)
        paid = self._invoice(self.customer, 10, 50)
        self._pay(paid, 50)
        with freeze_time(RUN_DATE):
            action = move.with_user(self.collector).action_dunning_log_call()
            form = Form(
                self.env[action["res_model"]]
                .with_user(self.collector)
                .with_context(**action["context"])
            )
            self.assertEqual(form.open_move_ids[:], move, "a paid invoice is not offered")
            form.outcome = "voicemail"
            form.save().action_confirm()
        event = self.env["dunning.event"].search(
            [("move_id", "=", move.id), ("event_type", "=", "call")]
        )
        self.assertEqual((event.amount_residual, event.days_overdue), (1000, 30))

    def test_view_and_exclude_act_on_the_open_lines(self):
        invoice = self._instalment_invoice(self.customer, RUN_DATE - timedelta(days=60), 1000)
        credit = self._credit_note(self.customer, 100, RUN_DATE - timedelta(days=5))
        paid = self._invoice(self.customer, 10, 50)
        self._pay(paid, 50)
        with freeze_time(RUN_DATE):
            self._run()
        row = self._row(self.customer)
        action = row.action_view_invoices()
        shown = self.env["dunning.line"].with_user(self.collector).search(action["domain"])
        receivables = invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        self.assertEqual(len(receivables), 2)
        self.assertEqual(shown.move_line_id & receivables, receivables, "both instalments")
        self.assertFalse(shown.move_line_id.move_id & paid, "a paid invoice is not open")
        with freeze_time(RUN_DATE):
            row.action_exclude()
        self.assertTrue(invoice.dunning_excluded)
        self.assertFalse(credit.dunning_excluded, "credits are not chased: left as they are")
        self.assertTrue(row.excluded)
        self.assertFalse(row.needs_action)


@tagged("post_install", "-at_install")
class TestKpiOpenCredits(KpiCommon, LinesCommon):
    """The dashboard's current + overdue equals the receivables on a ledger with open credits
    (the finding: 223.6k current + overdue against 137.2k receivables), and instalments count
    on their own due dates.

    31 March 2026: Acme: X 1,000 due 3 March (overdue 28 days), Y 500 due 9 April (current),
    an open credit note of 300 and a payment on account of 200: receivables 1,000; netted,
    overdue 1,000 - 500 = 500, current 500. Covered Co: 800 overdue, an open credit note of
    800: receivables 0, nothing overdue. Instalment Co: 1,000 invoiced 30 January, half due
    1 March (overdue 30 days), half due 30 April (current).
    Total: receivables 2,000 = current 1,000 + overdue 1,000; weighted days past due
    (500 x 28 + 500 x 30) / 1,000 = 29.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        customer = cls.customer
        cls._invoice_on(customer, date(2026, 2, 1), date(2026, 3, 3), 1000)
        cls._invoice_on(customer, date(2026, 3, 10), date(2026, 4, 9), 500)
        cls._credit_note(customer, 300, date(2026, 3, 12))
        cls._payment_on_account(customer, 200, date(2026, 3, 20))
        cls.covered = cls._customer("Covered Co", "ap@covered.test")
        cls._invoice_on(cls.covered, date(2026, 2, 1), date(2026, 3, 3), 800)
        cls._credit_note(cls.covered, 800, date(2026, 3, 12))
        cls.instalments = cls._customer("Instalment Co", "ap@instalment.test")
        cls._instalment_invoice(cls.instalments, date(2026, 1, 30), 1000)
        cls.env["dunning.engine"].sudo()._run(run_date=date(2026, 3, 31), companies=cls.company)
        cls.env["dunning.kpi"]._refresh_company(cls.company, date(2026, 3, 31), months=2)

    def test_current_plus_overdue_is_the_receivables(self):
        march = self._snapshot(date(2026, 3, 1))
        self.assertRecordValues(march, [{
            "closing": 2000, "closing_current": 1000, "closing_overdue": 1000,
        }])  # fmt: skip
        self.assertAlmostEqual(march.weighted_dpd, 29.0, places=3)
        data = self.env["dunning.kpi"].with_user(self.accountant).get_dashboard_data()
        month = data["month"]
        self.assertAlmostEqual(month["closing_current"] + month["closing_overdue"],
                               month["closing"])  # fmt: skip
        self.assertAlmostEqual(month["closing"], 2000)

    def test_stages_of_the_open_lines(self):
        """X and the first instalment are at the formal notice; the lines' stages, not the
        documents', are counted."""
        stages = {row["name"]: row for row in self._snapshot(date(2026, 3, 1)).stage_distribution}
        self.assertEqual((stages[self.formal.name]["count"], stages[self.formal.name]["amount"]),
                         (2, 1500))  # fmt: skip

    def test_customers_net_of_their_credits(self):
        data = self.env["dunning.kpi"].with_user(self.accountant).get_dashboard_data()
        self.assertEqual({row["name"]: row["overdue"] for row in data["customers"]},
                         {self.customer.display_name: 500.0,
                          self.instalments.display_name: 500.0})  # fmt: skip
        profiles = self.env["dunning.customer.kpi"].search([("company_id", "=", self.company.id)])
        by_partner = {p.partner_id: p for p in profiles}
        self.assertEqual(by_partner[self.customer].open_amount, 1000)
        self.assertEqual(by_partner[self.covered].overdue_amount, 0)
        self.assertEqual(by_partner[self.instalments].level_id, self.formal)
