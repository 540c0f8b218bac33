import csv
import io
import os

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestResolutionAgency(DunningCommon):
    """Agency and legal cases: the firm and its commission rate, the commission posted on
    what payments recover while the case is open (once per payment), the hand-over pack,
    the outcomes report (issue 14, agency)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agency = cls._customer("Recover & Co", "desk@recover.test")
        cls.agency.dunning_commission_rate = 25.0
        cls.expense = cls.company_data["default_account_expense"]
        cls.company.dunning_commission_account_id = cls.expense

    def _receivable(self, move):
        return move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _open_case(self, moves, resolution_type="agency", agency=None):
        case = (
            self.env["dunning.resolution"]
            .with_user(self.manager)
            .create(
                {
                    "partner_id": self.customer.id,
                    "resolution_type": resolution_type,
                    "agency_id": (agency or self.agency).id,
                    "line_ids": [Command.set(self._receivable(moves).ids)],
                }
            )
        )
        case.action_open()
        return case

    def _pay_as_billing(self, move, amount):
        """A payment registered by an invoicing user without collections rights."""
        self.env["account.payment.register"].with_user(self.invoicing_user).with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": amount, "payment_date": RUN_DATE})._create_payments()

    # ------------------------------------------------------------------ commission
    def test_commission_of_25_percent_on_a_4000_recovery_posted_once(self):
        """An agency case on a 4,000.00 invoice, firm at 25 %: the customer pays 4,000.00,
        registered by an invoicing user. Commission 4,000.00 x 25 % = 1,000.00, posted once
        as a vendor bill to the firm on the commission expense account; the case's cost is
        1,000.00. Posting again, unmatching and matching the same payment again, and closing
        post nothing more: closed with 4,000.00 recovered, 1,000.00 cost, 3,000.00 net."""
        move = self._invoice(self.customer, 95, 4000.0)
        self._run()
        case = self.env["dunning.resolution"].search([("partner_id", "=", self.customer.id)])
        case.with_user(self.manager).write(
            {"resolution_type": "agency", "agency_id": self.agency.id}
        )
        case.with_user(self.manager).action_open()
        self.assertEqual(case.commission_rate, 25.0)
        self._pay_as_billing(move, 4000.0)
        commission = case.commission_ids
        self.assertEqual(len(commission), 1)
        self.assertEqual((commission.amount_base, commission.amount), (4000.0, 1000.0))
        bill = commission.move_id
        self.assertRecordValues(
            bill,
            [{"move_type": "in_invoice", "partner_id": self.agency.id, "state": "posted",
              "amount_total": 1000.0}],
        )  # fmt: skip
        self.assertEqual(bill.invoice_line_ids.account_id, self.expense)
        self.assertEqual(case.amount_cost, 1000.0)
        self.assertEqual(len(self._events(move, "commission")), 1)
        # Never twice for the same payment.
        case._post_commissions()
        payment_line = commission.payment_line_id
        payment_line.remove_move_reconcile()
        (payment_line | self._receivable(move)).reconcile()
        self.assertEqual(len(case.commission_ids), 1)
        case.with_user(self.manager).action_done()
        self.assertEqual(len(case.commission_ids), 1)
        self.assertRecordValues(
            case,
            [{"state": "done", "amount_recovered": 4000.0, "amount_cost": 1000.0,
              "amount_net": 3000.0}],
        )  # fmt: skip
        self.assertEqual(
            self.env["account.move"].search_count(
                [("partner_id", "=", self.agency.id), ("move_type", "=", "in_invoice")]
            ),
            1,
        )

    def test_a_recovery_is_commissioned_once_when_its_payment_is_replaced(self):
        """Review finding: 4,000.00 paid and commissioned (1,000.00), then unmatched and
        replaced by another payment of 4,000.00 (the first one goes elsewhere): 4,000.00 was
        recovered once, the commission stays 1,000.00 (not 2,000.00)."""
        move = self._invoice(self.customer, 95, 4000.0)
        self._run()
        case = self.env["dunning.resolution"].search([("partner_id", "=", self.customer.id)])
        case.with_user(self.manager).write(
            {"resolution_type": "agency", "agency_id": self.agency.id}
        )
        case.with_user(self.manager).action_open()
        self._pay_as_billing(move, 4000.0)
        first = case.commission_ids.payment_line_id
        first.remove_move_reconcile()
        self._pay_as_billing(move, 4000.0)
        self.assertEqual(sum(case.commission_ids.mapped("amount")), 1000.0)
        self.assertEqual(case.amount_cost, 1000.0)
        self.assertFalse(first.reconciled)

    def _credit_note(self, move, amount):
        """A 500.00-style credit note matched with ``move``: no money recovered."""
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": RUN_DATE,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Discount", "quantity": 1, "price_unit": amount,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        refund.action_post()
        (self._receivable(refund) | self._receivable(move)).reconcile()

    def test_only_payments_while_open_and_each_part_once(self):
        """A 4,000.00 invoice with 1,000.00 paid before the case opened (not recovered by
        the firm): opened at 3,000.00. A 500.00 credit note is no recovery: no commission.
        Paid 2,000.00, then 500.00 while open: commissions 2,000.00 x 25 % = 500.00 and
        500.00 x 25 % = 125.00, cost 625.00. Closed: 3,000.00 no longer owed (recovered as
        the case counts it), 625.00 cost."""
        move = self._invoice(self.customer, 95, 4000.0)
        self._pay(move, 1000.0)
        case = self._open_case(move)
        self.assertEqual(case.amount_open_start, 3000.0)
        self._credit_note(move, 500.0)
        self.assertFalse(case.commission_ids)
        self._pay_as_billing(move, 2000.0)
        self._pay_as_billing(move, 500.0)
        self.assertEqual(sorted(case.commission_ids.mapped("amount")), [125.0, 500.0])
        self.assertEqual(sorted(case.commission_ids.mapped("amount_base")), [500.0, 2000.0])
        self.assertEqual(case.amount_cost, 625.0)
        case.with_user(self.manager).action_done()
        self.assertEqual((case.amount_recovered, case.amount_cost), (3000.0, 625.0))

    def test_payment_not_refused_when_the_commission_cannot_be_posted(self):
        """The expense account is removed after the case opened: the 4,000.00 payment is
        registered all the same, the case says why no commission was posted; closing the
        case refuses until the account is back, then posts the 1,000.00 (25 %)."""
        move = self._invoice(self.customer, 95, 4000.0)
        case = self._open_case(move)
        self.company.dunning_commission_account_id = False
        self._pay_as_billing(move, 4000.0)
        self.assertEqual(move.payment_state in ("paid", "in_payment"), True)
        self.assertFalse(case.commission_ids)
        self.assertIn("not posted", case.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "Agency Commission Expense Account"):
            case.with_user(self.manager).action_done()
        self.assertEqual(case.state, "open")
        self.company.dunning_commission_account_id = self.expense
        case.with_user(self.manager).action_done()
        self.assertEqual((case.state, case.commission_ids.amount, case.amount_cost),
                         ("done", 1000.0, 1000.0))  # fmt: skip

    def test_commission_as_journal_entry_in_foreign_currency(self):
        """The company posts commissions as journal entries. An 8,000.00 EUR invoice in a USD
        company (2 EUR per USD): 4,000.00 USD. Paid 8,000.00 EUR: 4,000.00 USD recovered, a
        legal case at 25 %: one entry of 1,000.00 USD, expense debit, the firm's payable
        credit."""
        self.company.dunning_commission_posting = "entry"
        eur = self.setup_other_currency("EUR")
        move = self._invoice(self.customer, 95, 8000.0, currency=eur)
        case = self._open_case(move, resolution_type="legal")
        self.assertEqual(case.amount_open_start, 4000.0)
        self._pay_as_billing(move, 8000.0)
        entry = case.commission_ids.move_id
        self.assertEqual(entry.move_type, "entry")
        self.assertEqual(entry.journal_id.type, "general")
        payable = self.agency.property_account_payable_id
        self.assertRecordValues(
            entry.line_ids.sorted("debit"),
            [{"account_id": payable.id, "partner_id": self.agency.id, "debit": 0.0,
              "credit": 1000.0},
             {"account_id": self.expense.id, "partner_id": self.agency.id, "debit": 1000.0,
              "credit": 0.0}],
        )  # fmt: skip
        self.assertEqual(case.amount_cost, 1000.0)

    # ------------------------------------------------------------------ bad input
    def test_commission_outside_0_100_refused(self):
        for rate in (120.0, -5.0):
            with self.assertRaisesRegex(ValidationError, r"Collection Commission \(%\)"):
                self.agency.with_user(self.manager).dunning_commission_rate = rate
        # (An RPC call rolls its transaction back; here the refused values are dropped.)
        self.env.invalidate_all(flush=False)
        self.assertEqual(self.agency.dunning_commission_rate, 25.0)
        # A collector does not set it; a manager does.
        with self.assertRaisesRegex(AccessError, "Collections / Manager"):
            self.agency.with_user(self.collector).dunning_commission_rate = 30.0
        self.agency.with_user(self.manager).dunning_commission_rate = 30.0
        self.assertEqual(self.agency.dunning_commission_rate, 30.0)

    def test_agency_case_without_firm_or_settings_refused(self):
        """No firm, no expense account, a wrong journal: a clear error, the case stays to
        decide, nothing posted."""
        move = self._invoice(self.customer, 95, 4000.0)
        Case = self.env["dunning.resolution"].with_user(self.manager)
        case = Case.create(
            {
                "partner_id": self.customer.id,
                "resolution_type": "agency",
                "line_ids": [Command.set(self._receivable(move).ids)],
            }
        )
        with self.assertRaisesRegex(UserError, "Agency / Law Firm: choose"):
            case.action_open()
        self.assertEqual(case.state, "draft")
        case.agency_id = self.agency
        self.company.dunning_commission_account_id = False
        with self.assertRaisesRegex(UserError, "Agency Commission Expense Account: set it"):
            case.action_open()
        self.assertEqual(case.state, "draft")
        with self.assertRaisesRegex(ValidationError, "Agency Commission Journal"):
            self.company.dunning_commission_journal_id = self.company_data["default_journal_misc"]
        with self.assertRaisesRegex(ValidationError, "Agency Commission Expense Account"):
            self.company.dunning_commission_account_id = self.company_data[
                "default_account_revenue"
            ]
        self._pay_as_billing(move, 4000.0)
        self.assertFalse(self.env["dunning.resolution.commission"].search([]))
        self.assertFalse(self.env["account.move"].search([("partner_id", "=", self.agency.id)]))

    def test_rights(self):
        """Collectors neither open agency cases nor generate the pack; invoicing users read
        the case, its commissions and the pack kept on it."""
        move = self._invoice(self.customer, 95, 4000.0)
        case = (
            self.env["dunning.resolution"]
            .with_user(self.manager)
            .create(
                {
                    "partner_id": self.customer.id,
                    "resolution_type": "agency",
                    "agency_id": self.agency.id,
                    "line_ids": [Command.set(self._receivable(move).ids)],
                }
            )
        )
        with self.assertRaises(AccessError):
            case.with_user(self.collector).action_open()
        case.with_user(self.manager).action_open()
        for method in ("action_handover_pdf", "action_handover_csv"):
            for user in (self.collector, self.invoicing_user):
                with self.assertRaises(AccessError):
                    getattr(case.with_user(user), method)()
        with self.assertRaises(AccessError):
            case.with_user(self.manager).write({"commission_rate": 10.0})
        with self.assertRaisesRegex(UserError, "Agency / Law Firm: the firm"):
            case.with_user(self.manager).agency_id = self.customer
        case.with_user(self.manager).action_handover_csv()
        self._pay_as_billing(move, 400.0)
        as_billing = case.with_user(self.invoicing_user)
        self.assertEqual(as_billing.commission_ids.amount, 100.0)
        attachment = (
            self.env["ir.attachment"]
            .with_user(self.invoicing_user)
            .search([("res_model", "=", "dunning.resolution"), ("res_id", "=", case.id)])
        )
        self.assertEqual(len(attachment), 1)
        self.assertTrue(attachment.raw)

    # ------------------------------------------------------------------ hand-over
    def _handover_case(self):
        """Acme owes 4,000.00 (invoiced 2025-10-28, due 2025-11-27, 95 days late on
        2026-03-02) and 1,500.00 (due 2025-12-02, 90 days late); reminded by the daily run,
        one invoice disputed, one promised."""
        first = self._invoice(self.customer, 95, 4000.0, ref="PO-A")
        second = self._invoice(self.customer, 90, 1500.0, ref="PO-B")
        with freeze_time(RUN_DATE):
            self._run()
            self.env["dunning.dispute"].with_user(self.collector).create(
                {"move_id": second.id, "reason": "pricing", "description": "Price list of 2025"}
            )
            self.env["dunning.promise"].with_user(self.collector).create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(first.ids)],
                    "amount": 4000.0,
                    "promise_date": RUN_DATE.replace(day=20),
                }
            )
            case = self.env["dunning.resolution"].search([("partner_id", "=", self.customer.id)])
            case.line_ids = [Command.set(self._receivable(first | second).ids)]
            case.with_user(self.manager).write(
                {"resolution_type": "agency", "agency_id": self.agency.id}
            )
            case.with_user(self.manager).action_open()
        return case, first, second

    def test_handover_csv(self):
        """The CSV: one row per line, amounts with the currency's decimals, days overdue on
        the day it is generated; generating it is an event on each line."""
        case, first, second = self._handover_case()
        with freeze_time(RUN_DATE):
            action = case.with_user(self.manager).action_handover_csv()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "dunning.resolution"), ("res_id", "=", case.id)]
        )
        rows = list(csv.reader(io.StringIO(attachment.raw.decode())))
        self.assertEqual(
            rows,
            [
                ["invoice", "invoice_date", "due_date", "original_amount", "open_amount",
                 "currency", "days_overdue"],
                [first.name, "2025-10-28", "2025-11-27", "4000.00", "4000.00", "USD", "95"],
                [second.name, "2025-11-02", "2025-12-02", "1500.00", "1500.00", "USD", "90"],
            ],
        )  # fmt: skip
        self.assertEqual(len(self._events(first, "handover")), 1)
        self.assertEqual(len(self._events(second, "handover")), 1)

    def test_handover_pdf(self):
        """One PDF with the statement, the reminder history, the correspondence, the
        dispute and the promise; kept on the case; an event."""
        case, first, second = self._handover_case()
        # An internal note of the case (review finding): not for the firm's eyes.
        case.sudo()._log_step("settlement", lambda c: "Our floor is 60 percent, internal only")
        sent = self.env["dunning.message"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(sent)
        sent.filtered(lambda m: m.state == "draft").with_user(self.collector).action_send()
        with freeze_time(RUN_DATE):
            case.with_user(self.manager).with_context(
                force_report_rendering=True
            ).action_handover_pdf()
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "dunning.resolution"), ("res_id", "=", case.id)]
        )
        self.assertEqual(attachment.mimetype, "application/pdf")
        if os.environ.get("DUNNING_LETTER_PDF_DIR"):  # to look at it
            path = os.path.join(os.environ["DUNNING_LETTER_PDF_DIR"], "handover_pack.pdf")
            with open(path, "wb") as file:
                file.write(attachment.raw)
        self.assertTrue(attachment.raw.startswith(b"%PDF"))
        self.assertEqual(len(self._events(first, "handover")), 1)
        # What the PDF says (the same template as HTML).
        html = (
            self.env["ir.actions.report"]
            .with_user(self.manager)
            ._render_qweb_html("dunning_b2b.action_report_resolution_handover", case.ids)[0]
            .decode()
        )
        for text in (
            "Recover &amp; Co",
            first.name,
            second.name,
            "4,000.00",
            "Reminder history",
            "Stage reached",
            "Correspondence sent",
            "Price list of 2025",
            "Promises to pay",
            "95",
        ):
            self.assertIn(text, html)
        self.assertNotIn("Our floor is 60 percent", html)
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(self.collector)._render_qweb_html(
                "dunning_b2b.action_report_resolution_handover", case.ids
            )

    def test_handover_only_for_agency_and_legal(self):
        move = self._invoice(self.customer, 95, 4000.0)
        case = (
            self.env["dunning.resolution"]
            .with_user(self.manager)
            .create(
                {
                    "partner_id": self.customer.id,
                    "resolution_type": "write_off",
                    "line_ids": [Command.set(self._receivable(move).ids)],
                }
            )
        )
        with self.assertRaisesRegex(UserError, "Hand-over Pack: .* is not an agency"):
            case.action_handover_csv()

    # ------------------------------------------------------------------ outcomes
    def test_outcomes_by_type(self):
        """Closed cases by type: the agency case recovered 4,000.00 at 1,000.00 cost (net
        3,000.00); a write-off case closed with 2,400.00 written off (bad debt). Read by an
        invoicing user from the outcomes report."""
        move = self._invoice(self.customer, 95, 4000.0)
        case = self._open_case(move)
        self._pay_as_billing(move, 4000.0)
        case.with_user(self.manager).action_done()
        other = self._customer("Bolt Industries", "ap@bolt.test")
        lost = self._invoice(other, 95, 2400.0)
        write_off = (
            self.env["dunning.resolution"]
            .sudo()
            .create(
                {
                    "partner_id": other.id,
                    "resolution_type": "write_off",
                    "line_ids": [Command.set(self._receivable(lost).ids)],
                }
            )
        )
        # The write-off itself is another part of issue 14: its outcome as it closes.
        write_off.write({"state": "done", "date_done": RUN_DATE, "amount_written_off": 2400.0})
        groups = (
            self.env["dunning.resolution"]
            .with_user(self.invoicing_user)
            ._read_group(
                [("state", "=", "done")],
                ["resolution_type"],
                ["amount_recovered:sum", "amount_written_off:sum", "amount_cost:sum",
                 "amount_net:sum"],
            )
        )  # fmt: skip
        self.assertEqual(
            sorted(groups),
            [("agency", 4000.0, 0.0, 1000.0, 3000.0), ("write_off", 0.0, 2400.0, 0.0, 0.0)],
        )
        action = self.env.ref("dunning_b2b.dunning_resolution_outcome_action")
        self.assertIn("pivot", action.view_mode)
        menu = self.env.ref("dunning_b2b.dunning_resolution_outcome_menu")
        self.assertEqual(menu.parent_id, self.env.ref("dunning_b2b.dunning_analysis_menu"))
