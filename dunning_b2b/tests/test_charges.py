import re
from datetime import date, timedelta

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import mute_logger

from .common import RUN_DATE, DunningCommon

# RUN_DATE is 2 March 2026: an invoice 37 days overdue is due on 24 January 2026.
ECB_2025_H2 = (date(2025, 7, 1), date(2025, 12, 31), 4.0)
ECB_2026_H1 = (date(2026, 1, 1), False, 4.5)


@tagged("post_install", "-at_install")
class TestCharges(DunningCommon):
    """Late-payment charges in a EUR company: a fixed compensation per invoice by currency
    and amount band, statutory interest at the reference rate (4.5 % from 1 January 2026)
    plus 8 points, actual/365; invoiced by a manager or at a stage, waived with a reason,
    never twice for the same invoice or days."""

    @classmethod
    def setup_independent_company(cls, **kwargs):
        eur = cls._enable_currency("EUR")
        return super().setup_independent_company(currency_id=eur.id, **kwargs)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.company.currency_id
        assert cls.eur.name == "EUR", cls.eur.name
        cls.gbp = cls.setup_other_currency("GBP", rates=[("2020-01-01", 0.85)])
        cls.usd = cls.setup_other_currency("USD", rates=[("2020-01-01", 1.25)])
        # One customer invoiced here is a key account by revenue share: the rule is off,
        # key accounts are flagged by hand in these tests.
        cls.company.dunning_key_account_threshold = 0.0
        cls.income = cls.env["account.account"].create(
            {"code": "706100", "name": "Late-payment charges", "account_type": "income_other"}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Late-payment charges", "type": "service", "taxes_id": [Command.clear()]}
        )
        cls.company.dunning_charge_product_id = cls.product
        cls.company.dunning_charge_account_id = cls.income
        cls.policy.write(
            {
                "charge_compensation": True,
                "charge_interest": True,
                "charge_interest_margin": 8.0,
                "charge_band_ids": [
                    Command.create({"currency_id": cls.eur.id, "amount_from": 0, "fee": 40}),
                    Command.create(
                        {"currency_id": cls.gbp.id, "amount_from": 0, "amount_to": 999.99,
                         "fee": 40}
                    ),
                    Command.create(
                        {"currency_id": cls.gbp.id, "amount_from": 1000, "amount_to": 9999.99,
                         "fee": 70}
                    ),
                    Command.create(
                        {"currency_id": cls.gbp.id, "amount_from": 10000, "fee": 100}
                    ),
                ],
                "charge_rate_ids": [
                    Command.create({"date_from": start, "date_to": end, "rate": rate})
                    for start, end, rate in (ECB_2025_H2, ECB_2026_H1)
                ],
            }
        )  # fmt: skip

    # ------------------------------------------------------------------ helpers
    def _decide(self, partner=None, user=None, run_date=RUN_DATE, **vals):
        """The manager's decision form on the customer, confirmed on ``run_date``."""
        user = user or self.manager
        partner = (partner or self.customer).with_user(user)
        with freeze_time(run_date):
            action = partner.action_dunning_charges()
            wizard = (
                self.env["dunning.charge.decide"]
                .with_user(user)
                .with_context(**action["context"])
                .create(vals)
            )
            wizard.action_confirm()
        return wizard

    def _charges(self, partner=None):
        return self.env["dunning.charge"].search(
            [("partner_id", "=", (partner or self.customer).id)], order="id"
        )

    def _text(self, html):
        return " ".join(re.sub(r"<[^>]+>", " ", str(html)).split())

    # ------------------------------------------------------------------ amounts
    def test_manager_invoices_compensation_and_37_days_interest(self):
        """10,000.00 EUR due on 24 January, charged on 2 March: compensation 40.00 (the one
        EUR band) and interest 10,000 x (4.5 % + 8 %) x 37 / 365 = 126.7123 -> 126.71;
        one posted invoice of 166.71 on the charge product and income account."""
        late = self._invoice(self.customer, 37, 10000.0)
        self._decide()
        charges = self._charges()
        self.assertEqual(charges.mapped("charge_type"), ["compensation", "interest"])
        self.assertEqual(charges.mapped("amount"), [40.0, 126.71])
        interest = charges[1]
        self.assertEqual(
            (interest.interest_from, interest.interest_to, interest.days, interest.rate),
            (date(2026, 1, 24), RUN_DATE, 37, "12.5 %"),
        )
        invoice = charges.invoice_id
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.amount_total, 166.71)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.product)
        self.assertEqual(invoice.invoice_line_ids.account_id, self.income)
        self.assertIn(late.name, invoice.invoice_line_ids[0].name)
        self.assertIn("37 days", invoice.invoice_line_ids[1].name)
        self.assertEqual(set(charges.mapped("state")), {"charged"})
        self.assertEqual(len(self._events(late, "charge")), 2)
        self.assertIn("166.71", self.customer.message_ids[0].body)

    def test_never_charged_twice_for_the_same_invoice_or_days(self):
        """Charged on 2 March (40.00 + 126.71), then on 12 March: no compensation again,
        interest for the 10 days since 2 March only: 10,000 x 12.5 % x 10 / 365 = 34.2466
        -> 34.25. A third time the same day: nothing is due."""
        self._invoice(self.customer, 37, 10000.0)
        self._decide()
        later = RUN_DATE + timedelta(days=10)
        self._decide(run_date=later)
        charges = self._charges()
        self.assertEqual(charges.mapped("amount"), [40.0, 126.71, 34.25])
        self.assertEqual(charges[2].interest_from, RUN_DATE)
        self.assertEqual(charges[2].days, 10)
        with self.assertRaisesRegex(UserError, "owes no late-payment charges"):
            self._decide(run_date=later)
        # Enforced by data too: a second compensation of the invoice is refused.
        vals = charges[0].copy_data()[0]
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
            with self.env.cr.savepoint():
                self.env["dunning.charge"].sudo().create(vals)

    def test_40_eur_once_per_invoice_across_several_reminders(self):
        """Charges invoiced automatically from the early follow-up. 1,000.00 EUR due 5 days
        before 2 March: run on 2 March (follow-up): 40.00 + 1,000 x 12.5 % x 5 / 365 = 1.7123
        -> 1.71; on 17 March (20 days: formal notice): interest of 15 days, 5.1369 -> 5.14,
        no compensation; on 16 April (50 days: escalation): 30 days, 10.2740 -> 10.27. The
        formal notice's email shows the 15 days of interest accrued, not the 40.00 again."""
        self.policy.charge_auto_level_id = self.follow_up
        self.policy.charge_show_level_id = self.follow_up
        late = self._invoice(self.customer, 5, 1000.0)
        tables = {}
        for days in (0, 15, 45):
            self._run(run_date=RUN_DATE + timedelta(days=days))
            message = self._messages().filtered(lambda m, move=late: move in m.move_ids)[-1:]
            tables[message.level_id] = self._text(message.invoice_table_html)
        charges = self._charges().filtered(lambda c: c.move_id == late)
        self.assertEqual(
            [(c.charge_type, c.amount) for c in charges],
            [("compensation", 40.0), ("interest", 1.71), ("interest", 5.14), ("interest", 10.27)],
        )
        self.assertEqual(len(charges.invoice_id), 3, "one charge invoice per stage reached")
        # Each reminder shows what was due on its day, before that day's charge: the
        # follow-up the 40.00 and 5 days of interest, the formal notice the 15 days since,
        # not the 40.00 again.
        self.assertIn("40.00", tables[self.follow_up])
        self.assertIn("1.71", tables[self.follow_up])
        self.assertIn("Late-payment charges", tables[self.formal])
        self.assertIn("5.14", tables[self.formal])
        self.assertNotIn("40.00", tables[self.formal])
        # The same day again changes nothing.
        self._run(run_date=RUN_DATE + timedelta(days=45))
        self.assertEqual(len(self._charges().filtered(lambda c: c.move_id == late)), 4)

    def test_interest_on_what_was_open_each_day(self):
        """10,000.00 due 24 January, 4,000.00 paid on 11 February: on 2 March the interest is
        10,000 x 12.5 % x 18 / 365 = 61.6438 + 6,000 x 12.5 % x 19 / 365 = 39.0411 =
        100.6849 -> 100.68 (not 6,000 x 12.5 % x 37 / 365 = 76.03 on what is open now)."""
        self.policy.charge_compensation = False
        late = self._invoice(self.customer, 37, 10000.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=late.ids
        ).create({"amount": 4000.0, "payment_date": date(2026, 2, 11)})._create_payments()
        self._decide()
        charge = self._charges()
        self.assertEqual(charge.amount, 100.68)
        self.assertEqual((charge.base_amount, charge.days), (10000.0, 37))

    def test_uk_bands_at_their_edges(self):
        """GBP invoices of 999.99, 1,000.00, 9,999.99 and 10,000.00 owe 40, 70, 70 and 100
        GBP (the UK bands); one charge invoice in GBP of 280.00 (interest off here)."""
        self.policy.charge_interest = False
        moves = [self._invoice(self.customer, 37, amount, currency=self.gbp)
                 for amount in (999.99, 1000.00, 9999.99, 10000.00)]  # fmt: skip
        self._decide()
        charges = self._charges()
        self.assertEqual(
            [(c.move_id, c.amount) for c in charges],
            list(zip(moves, [40.0, 70.0, 70.0, 100.0], strict=True)),
        )
        self.assertEqual(charges.invoice_id.currency_id, self.gbp)
        self.assertEqual(charges.invoice_id.amount_total, 280.0)

    def test_usd_invoice_in_a_eur_company(self):
        """12,500.00 USD (1 EUR = 1.25 USD), no USD bands: the EUR compensation 40.00 is
        50.00 USD; interest 12,500 x 12.5 % x 37 / 365 = 158.3904 -> 158.39 USD. The charge
        invoice is in USD, 208.39, booked at 208.39 / 1.25 = 166.712 -> 166.71 EUR."""
        self._invoice(self.customer, 37, 12500.0, currency=self.usd)
        self._decide()
        charges = self._charges()
        self.assertEqual(charges.mapped("amount"), [50.0, 158.39])
        self.assertEqual(charges.currency_id, self.usd)
        invoice = charges.invoice_id
        self.assertEqual(invoice.currency_id, self.usd)
        self.assertEqual(invoice.amount_total, 208.39)
        self.assertAlmostEqual(invoice.amount_total_signed, 166.71)

    def test_kpis_billed_collected_waived(self):
        """The KPIs in EUR: 208.39 USD billed = 40 + 126.71... in EUR at 1.25: 50.00 USD is
        40.00 EUR and 158.39 USD is 126.712 -> 126.71 EUR, 166.71 EUR billed. The customer
        pays half the charge invoice (104.195 -> 104.20 USD of 208.39): each charge counts
        half as collected, 20.00 + 63.355 -> 63.36 EUR. Nothing waived."""
        self._invoice(self.customer, 37, 12500.0, currency=self.usd)
        self._decide()
        charges = self._charges()
        self.assertEqual(charges.mapped("amount_billed"), [40.0, 126.71])
        self.assertEqual(charges.mapped("amount_collected"), [0.0, 0.0])
        invoice = charges.invoice_id
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 104.195, "payment_date": RUN_DATE})._create_payments()
        share = 1 - invoice.amount_residual / invoice.amount_total
        self.assertAlmostEqual(share, 0.5, places=2)
        self.assertEqual(
            charges.mapped("amount_collected"),
            [
                self.company.currency_id.round(40.0 * share),
                self.company.currency_id.round(126.71 * share),
            ],
        )
        self.assertEqual(charges.mapped("amount_waived"), [0.0, 0.0])
        # Invoicing users read the report.
        self.assertTrue(
            self.env["dunning.charge"].with_user(self.invoicing_user).search_count([]) >= 2
        )

    def test_cancelled_charge_invoice_releases_its_charges(self):
        """Review finding: 10,000.00 EUR 37 days late, charged 166.71 (40.00 + 126.71); the
        charge invoice is cancelled: the charges are released (an event each) and the same
        166.71 is due again, then charged on a new invoice."""
        late = self._invoice(self.customer, 37, 10000.0)
        self._decide()
        invoice = self._charges().invoice_id
        invoice.button_draft()
        invoice.button_cancel()
        self.assertFalse(self._charges())
        self.assertEqual(len(self._events(late, "charge_cancelled")), 2)
        self._decide()
        charges = self._charges()
        self.assertEqual(charges.mapped("amount"), [40.0, 126.71])
        self.assertNotEqual(charges.invoice_id, invoice)

    # ------------------------------------------------------------------ waivers
    def test_key_account_waived_by_default_with_a_reason(self):
        """A key account: the decision form proposes to waive; without a reason nothing is
        recorded; with one, the 40.00 + 126.71 are recorded as waived (no invoice) and are
        not due again."""
        self.customer.with_company(self.company).dunning_key_account = True
        late = self._invoice(self.customer, 37, 10000.0)
        with freeze_time(RUN_DATE):
            action = self.customer.with_user(self.manager).action_dunning_charges()
            form = Form(self.env["dunning.charge.decide"].with_user(self.manager)
                        .with_context(**action["context"]))  # fmt: skip
            self.assertEqual(form.decision, "waive")
            self.assertIn("126.71", self._text(form.preview_html))
        with self.assertRaisesRegex(UserError, "Reason"):
            self._decide(decision="waive")
        self.assertFalse(self._charges())
        self._decide(decision="waive", reason="Strategic customer, first delay")
        charges = self._charges()
        self.assertEqual(charges.mapped("amount"), [40.0, 126.71])
        self.assertEqual(set(charges.mapped("state")), {"waived"})
        self.assertFalse(charges.invoice_id)
        self.assertEqual(charges[0].reason, "Strategic customer, first delay")
        self.assertEqual(len(self._events(late, "charge_waived")), 2)
        with self.assertRaisesRegex(UserError, "owes no late-payment charges"):
            self._decide(decision="charge")

    def test_key_account_waived_by_default_at_the_stage(self):
        """Charges due at the formal notice for a key account are recorded as waived."""
        self.policy.charge_auto_level_id = self.formal
        self.customer.with_company(self.company).dunning_key_account = True
        self._invoice(self.customer, 37, 10000.0)
        self._run()
        charges = self._charges()
        self.assertEqual(charges.mapped("amount"), [40.0, 126.71])
        self.assertEqual(set(charges.mapped("state")), {"waived"})
        self.assertIn("Key account", charges[0].reason)

    # ------------------------------------------------------------------ shown
    def test_shown_in_reminders_and_letters_from_the_chosen_stage(self):
        """From the formal notice on: the formal notice's email and letter show 40.00 and
        126.71 accrued to 2 March, 166.71 in all; with the escalation chosen, they do not."""
        self.policy.charge_show_level_id = self.formal
        self._invoice(self.customer, 37, 10000.0)
        self._run()
        message = self._messages().filtered(lambda m: m.level_id == self.formal)
        table = self._text(message.invoice_table_html)
        self.assertIn("Late-payment charges", table)
        for amount in ("40.00", "126.71", "166.71"):
            self.assertIn(amount, table)
        with freeze_time(RUN_DATE):
            html, _type = (
                self.env["ir.actions.report"]
                .with_user(self.collector)
                ._render_qweb_html("dunning_b2b.report_formal_notice", self.customer.ids)
            )
        letter = self._text(html.decode())
        self.assertIn("Total late-payment charges", letter)
        self.assertIn("166.71", letter)
        self.policy.charge_show_level_id = self.escalation
        message.invalidate_recordset()
        self.assertNotIn("Late-payment charges", self._text(message.invoice_table_html))
        self.assertFalse(self._charges(), "shown, not charged")

    # ------------------------------------------------------------------ bad input, rights
    def test_band_tables_with_gaps_or_overlaps_are_refused(self):
        """A GBP band from 1,000.01 (gap after 999.99) or from 999.99 (overlap): an error
        naming Invoice Amount From, nothing saved; a reference rate from 2 January 2026
        (gap after 31 December) names From."""
        gbp = self.policy.charge_band_ids.filtered(lambda b: b.currency_id == self.gbp)
        middle = gbp.sorted("amount_from")[1]
        for start, word in ((1000.01, "gap"), (999.99, "overlap")):
            with self.assertRaisesRegex(ValidationError, f"Invoice Amount From: .*{word}"):
                with self.env.cr.savepoint():
                    self.policy.with_user(self.manager).write(
                        {"charge_band_ids": [Command.update(middle.id, {"amount_from": start})]}
                    )
            self.assertEqual(middle.amount_from, 1000.0)
        with self.assertRaisesRegex(ValidationError, "From: there is a gap"):
            with self.env.cr.savepoint():
                self.policy.with_user(self.manager).charge_rate_ids[1].date_from = date(2026, 1, 2)
        with self.assertRaisesRegex(ValidationError, "Interest Margin"):
            with self.env.cr.savepoint():
                self.policy.with_user(self.manager).charge_interest_margin = -1
        # Rows replaced in one save are checked once all are written: UK bands moved by 1.
        self.policy.with_user(self.manager).write(
            {"charge_band_ids": [Command.update(middle.id, {"amount_to": 4999.99}),
                                 Command.update(gbp.sorted("amount_from")[2].id,
                                                {"amount_from": 5000})]}
        )  # fmt: skip
        self.assertEqual(middle.amount_to, 4999.99)

    def test_missing_rate_or_settings_charge_nothing(self):
        """No reference rate before 1 January 2026 for an invoice due on 20 December 2025,
        or no charge product in Settings: a clear error, no invoice, nothing recorded."""
        self.policy.charge_rate_ids.sorted("date_from")[0].unlink()
        self._invoice(self.customer, 72, 1000.0)
        invoices = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "Reference Rates .* no rate holds"):
            self._decide()
        self.policy.charge_rate_ids.date_from = date(2025, 1, 1)
        self.company.dunning_charge_product_id = False
        with self.assertRaisesRegex(UserError, "Late-Payment Charge Product"):
            self._decide()
        self.assertEqual(self.env["account.move"].search_count([]), invoices)
        self.assertFalse(self._charges())

    def test_rights(self):
        """Collectors see the charges but neither decide them nor edit the tables; nobody
        writes a charge record."""
        self._invoice(self.customer, 37, 10000.0)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.collector).action_dunning_charges()
        with self.assertRaises(AccessError):
            self._decide(user=self.collector)
        with self.assertRaises(AccessError):
            self.policy.charge_band_ids[0].with_user(self.collector).fee = 1
        self._decide()
        charge = self._charges()[0]
        self.assertEqual(charge.with_user(self.collector).amount, 40.0)
        for user in (self.collector, self.manager):
            with self.assertRaises(AccessError):
                charge.with_user(user).amount = 1
            with self.assertRaises(AccessError):
                self.env["dunning.charge"].with_user(user).create(charge.copy_data()[0])
        action = self.customer.with_user(self.collector).action_view_dunning_charges()
        self.assertEqual(self.env["dunning.charge"].with_user(self.collector)
                         .search(action["domain"]), self._charges())  # fmt: skip

    def test_case_and_worklist_buttons_open_the_decision(self):
        """From a final resolution case, the decision covers the case's lines only."""
        late = self._invoice(self.customer, 37, 10000.0)
        other = self._invoice(self.customer, 37, 500.0)
        line = late.line_ids.filtered(lambda x: x.account_type == "asset_receivable")
        case = self.env["dunning.resolution"].with_user(self.manager).create(
            {"partner_id": self.customer.id, "resolution_type": "agency",
             "line_ids": [Command.set(line.ids)]}
        )  # fmt: skip
        action = case.action_dunning_charges()
        self.assertEqual(action["context"]["default_line_ids"], line.ids)
        with freeze_time(RUN_DATE):
            wizard = (
                self.env["dunning.charge.decide"]
                .with_user(self.manager)
                .with_context(**action["context"])
                .create({})
            )
            wizard.action_confirm()
        self.assertEqual(self._charges().move_id, late)
        self.assertNotIn(other, self._charges().move_id)
        self._run()
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        if row:
            action = row.with_user(self.manager).action_dunning_charges()
            self.assertEqual(action["res_model"], "dunning.charge.decide")
            with self.assertRaises(AccessError):
                row.with_user(self.collector).action_dunning_charges()
