from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, new_test_user, tagged

from ..engine import ProvisionItem, decide_provisions, net_by_partner, provision_percent
from .common import RUN_DATE, DunningCommon

FEB, MAR, APR = date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)


def _round(amount):
    return round(amount, 2)


@tagged("post_install", "-at_install")
class TestProvisionUnit(BaseCase):
    """The provision rule from plain values (issue 14)."""

    def test_percent_of_stage_or_age(self):
        """Stage 50 %; age rule 90 days at 75 %: 89 days -> 50 %, 90 days -> 75 %; no age
        rule (0 days) -> the stage's 50 %; a stage higher than the age rule keeps its own."""
        self.assertEqual(provision_percent(50, 89, 90, 75), 50)
        self.assertEqual(provision_percent(50, 90, 90, 75), 75)
        self.assertEqual(provision_percent(50, 400, 0, 75), 50)
        self.assertEqual(provision_percent(100, 400, 90, 75), 100)

    def test_only_the_difference_is_booked(self):
        """Line 1: 3,000.00 open at 50 % = 1,500.00, 2,000.00 provided: release 500.00.
        Line 2: 333.33 at 10 % = 33.333 -> 33.33, nothing provided: +33.33. Line 3: paid
        (no longer open), 800.00 provided: release 800.00. Line 4: 0 %, nothing provided:
        no change. Customer 10 nets -500.00 + 33.33 = -466.67; customer 11: -800.00."""
        items = [
            ProvisionItem(1, 10, 3000.0, 50.0),
            ProvisionItem(2, 10, 333.33, 10.0),
            ProvisionItem(4, 11, 900.0, 0.0),
        ]
        previous = {1: (10, 2000.0), 3: (11, 800.0)}
        changes = decide_provisions(items, previous, _round)
        self.assertEqual(
            [(c.line_id, c.provided, c.change) for c in changes],
            [(1, 1500.0, -500.0), (2, 33.33, 33.33), (3, 0.0, -800.0)],
        )
        self.assertEqual(net_by_partner(changes, _round), {10: -466.67, 11: -800.0})


class ProvisionCommon(DunningCommon):
    """Company A with provision accounts; the escalation stage provides 50 %, the final
    stage 100 %."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.allowance, cls.expense = cls._provision_accounts(cls.company)
        cls.company.write(
            {
                "dunning_provision_allowance_account_id": cls.allowance.id,
                "dunning_provision_expense_account_id": cls.expense.id,
            }
        )
        cls.escalation.provision_percent = 50.0
        cls.final.provision_percent = 100.0

    @classmethod
    def _provision_accounts(cls, company):
        Account = cls.env["account.account"].with_company(company)
        allowance = Account.create(
            {"code": "129900", "name": "Allowance for doubtful debts",
             "account_type": "asset_current"}
        )  # fmt: skip
        expense = Account.create(
            {"code": "681900", "name": "Provision for doubtful debts", "account_type": "expense"}
        )
        return allowance, expense

    def _book(self, month_end, user=None, company=None):
        company = company or self.company
        wizard = (
            self.env["dunning.provision.book"]
            .with_user(user or self.manager)
            .with_company(company)
            .create({"date": month_end})
        )
        wizard.action_book()
        return wizard

    def _provisions(self, **domain):
        return self.env["dunning.provision"].search(
            [(name, "=", value) for name, value in domain.items()], order="id"
        )

    def _balance(self, account):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("balance"))


@tagged("post_install", "-at_install")
class TestProvision(ProvisionCommon):
    """Doubtful debt provisions booked monthly by a dunning manager (issue 14)."""

    def test_booked_at_escalation_and_released_at_payment(self):
        """4,000.00 due 60 days before 2 March 2026 is at the escalation stage (50 %). The
        February booking provides 4,000.00 x 50 % = 2,000.00: debit expense 2,000.00, credit
        allowance 2,000.00. Paid in full, the March booking releases 2,000.00 (debit
        allowance, credit expense): the allowance is back to 0.00."""
        move = self._invoice(self.customer, 60, 4000.0)
        self._run()
        self.assertEqual(move.dunning_level_id, self.escalation)
        wizard = self._book(FEB)
        self.assertEqual((wizard.amount_increase, wizard.amount_release), (0.0, 0.0))
        row = self._provisions(move_id=move.id)
        self.assertEqual(
            (row.level_id, row.percent, row.amount_residual, row.amount_provided, row.amount),
            (self.escalation, 50.0, 4000.0, 2000.0, 2000.0),
        )
        entry = row.entry_id
        self.assertEqual(
            (entry.state, entry.date, entry.journal_id.type), ("posted", FEB, "general")
        )
        self.assertEqual(
            {(line.account_id.id, line.balance, line.partner_id.id) for line in entry.line_ids},
            {(self.expense.id, 2000.0, self.customer.id),
             (self.allowance.id, -2000.0, self.customer.id)},
        )  # fmt: skip
        self.assertEqual(self._balance(self.allowance), -2000.0)
        self.assertEqual(len(self._events(move, "provision")), 1)

        self._pay(move, 4000.0)
        preview = self.env["dunning.provision.book"].with_user(self.manager).create({"date": MAR})
        self.assertEqual((preview.amount_increase, preview.amount_release), (0.0, 2000.0))
        preview.action_book()
        release = self._provisions(move_id=move.id) - row
        self.assertEqual(
            (release.amount_provided, release.amount, release.level_id, release.is_current),
            (0.0, -2000.0, self.escalation, True),
        )
        self.assertFalse(row.is_current)
        self.assertEqual(
            {(line.account_id.id, line.balance) for line in release.entry_id.line_ids},
            {(self.expense.id, -2000.0), (self.allowance.id, 2000.0)},
        )
        self.assertEqual((self._balance(self.allowance), self._balance(self.expense)), (0.0, 0.0))
        self.assertEqual(len(self._events(move, "provision")), 2)

    def test_partly_paid_then_next_stage(self):
        """1,000.00 at the escalation stage (50 %): February provides 500.00. Paid 400.00, the
        600.00 still open at 50 % = 300.00: March releases 200.00. On 2 April the line is 91
        days late, at the final stage (100 %): April provides 600.00, 300.00 more. The
        allowance then holds 600.00; a month without change books nothing."""
        move = self._invoice(self.customer, 60, 1000.0)
        self._run()
        self._book(FEB)
        self._pay(move, 400.0)
        self._book(MAR)
        self._run(run_date=RUN_DATE + timedelta(days=31))
        self.assertEqual(move.dunning_level_id, self.final)
        self._book(APR)
        rows = self._provisions(move_id=move.id)
        self.assertEqual(
            [(r.date, r.level_id, r.amount_residual, r.amount_provided, r.amount) for r in rows],
            [
                (FEB, self.escalation, 1000.0, 500.0, 500.0),
                (MAR, self.escalation, 600.0, 300.0, -200.0),
                (APR, self.final, 600.0, 600.0, 300.0),
            ],
        )
        self.assertEqual(rows.mapped("is_current"), [False, False, True])
        self.assertEqual(len(rows.entry_id), 3)
        self.assertEqual(self._balance(self.allowance), -600.0)
        with self.assertRaisesRegex(UserError, "nothing to book"):
            self._book(date(2026, 5, 31))

    def test_released_when_settled_and_written_off(self):
        """4,000.00 at the escalation stage: February provides 2,000.00. Settled at 70 %: the
        customer pays 2,800.00 and the remaining 1,200.00 is written off to bad debts in an
        entry reconciled with the invoice. The line is no longer open: March releases the
        whole 2,000.00."""
        move = self._invoice(self.customer, 60, 4000.0)
        self._run()
        self._book(FEB)
        self._pay(move, 2800.0)
        receivable = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        bad_debt = self.env["account.account"].create(
            {"code": "654900", "name": "Bad debts", "account_type": "expense"}
        )
        write_off = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": RUN_DATE,
                "journal_id": self.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"account_id": bad_debt.id, "balance": 1200.0,
                                    "partner_id": self.customer.id}),
                    Command.create({"account_id": receivable.account_id.id, "balance": -1200.0,
                                    "partner_id": self.customer.id}),
                ],
            }
        )  # fmt: skip
        write_off.action_post()
        (receivable | write_off.line_ids.filtered("account_id.reconcile")).reconcile()
        self.assertTrue(receivable.reconciled)
        self._book(MAR)
        rows = self._provisions(move_id=move.id)
        self.assertEqual(rows.mapped("amount"), [2000.0, -2000.0])
        self.assertEqual(rows[1].amount_residual, 0.0)
        self.assertEqual(self._balance(self.allowance), 0.0)

    def test_released_when_the_invoice_is_deleted(self):
        """4,000.00 provided 2,000.00 in February, then reset to draft and deleted: its
        provision rows stay (without line) and March releases the 2,000.00."""
        move = self._invoice(self.customer, 60, 4000.0)
        self._run()
        self._book(FEB)
        row = self._provisions(move_id=move.id)
        move.button_draft()
        move.unlink()
        self.assertTrue(row.exists())
        self.assertFalse(row.move_line_id)
        self._book(MAR)
        release = self._provisions() - row
        self.assertEqual(
            (release.partner_id, release.level_id, release.amount, release.amount_provided),
            (self.customer, self.escalation, -2000.0, 0.0),
        )
        self.assertFalse(row.is_current)
        self.assertEqual(self._balance(self.allowance), 0.0)
        with self.assertRaisesRegex(UserError, "nothing to book"):
            self._book(APR)

    def test_daily_run_proposes_the_booking_once_a_month(self):
        """On 2 March, February is not booked and 4,000.00 at the escalation stage calls for
        2,000.00: the collections manager gets a note once, not again the next day. Once
        February is booked, the run of 1 April proposes March only if it has a change."""
        self.company.dunning_manager_id = self.manager
        self._invoice(self.customer, 60, 4000.0)

        def notes():
            return self.env["mail.message"].search(
                [("partner_ids", "in", self.manager.partner_id.ids),
                 ("subject", "=", "Book the doubtful debt provisions")]
            )  # fmt: skip

        stats = self._run()
        self.assertEqual(stats["provisions_proposed"], 1)
        self.assertEqual(len(notes()), 1)
        self.assertIn("2,000.00", notes().body)
        self.assertIn("2026-02", notes().body)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(len(notes()), 1)
        self._book(FEB)
        self._run(run_date=date(2026, 4, 1))
        self.assertEqual(len(notes()), 1, "nothing changed in March: nothing to propose")

    def test_age_rule(self):
        """Age rule: 20 % from 30 days past due. At 28 February an invoice of 1,000.00 due
        21 January is 38 days late: its stage (formal notice) provides nothing, its age
        1,000.00 x 20 % = 200.00. One due 10 February (18 days late) gets nothing."""
        self.company.write(
            {"dunning_provision_age_days": 30, "dunning_provision_age_percent": 20.0}
        )
        old = self._invoice(self.customer, 40, 1000.0)
        young = self._invoice(self.customer, 20, 700.0)
        self._run()
        self.assertEqual(old.dunning_level_id, self.formal)
        self._book(FEB)
        row = self._provisions(move_id=old.id)
        self.assertEqual((row.percent, row.amount_provided), (20.0, 200.0))
        self.assertFalse(self._provisions(move_id=young.id))

    def test_one_booking_a_month(self):
        """A second booking for February is refused while the first entry stands; once that
        entry is reversed, February can be booked again (2,000.00 again). A reversed entry's
        rows no longer count: the booking before them stands."""
        move = self._invoice(self.customer, 60, 4000.0)
        self._run()
        self._book(FEB)
        entry = self._provisions(move_id=move.id).entry_id
        with self.assertRaisesRegex(UserError, "already booked"):
            self._book(date(2026, 2, 15))
        entry._reverse_moves(cancel=True)
        self._book(FEB)
        rows = self._provisions(move_id=move.id)
        self.assertEqual(rows.mapped("amount"), [2000.0, 2000.0])
        self.assertEqual(self._balance(self.allowance), -2000.0)
        # Paid 1,000.00: March releases 500.00 (3,000.00 x 50 % = 1,500.00). That entry
        # reversed, what stands is February's 2,000.00: April releases the 500.00 again, and
        # the allowance holds 1,500.00.
        self._pay(move, 1000.0)
        self._book(MAR)
        self._provisions(move_id=move.id)[-1:].entry_id._reverse_moves(cancel=True)
        self._book(APR)
        rows = self._provisions(move_id=move.id)
        self.assertEqual(rows.mapped("amount"), [2000.0, 2000.0, -500.0, -500.0])
        self.assertEqual(rows.mapped("is_current"), [False, False, False, True])
        self.assertEqual(self._balance(self.allowance), -1500.0)

    def test_bad_input_posts_nothing(self):
        """No accounts set: the error names the settings and the path to them, and neither an
        entry nor a provision row is written. Percentages outside 0-100 and accounts of the
        wrong kind are refused with the field's name."""
        self._invoice(self.customer, 60, 4000.0)
        self._run()
        self.company.dunning_provision_allowance_account_id = False
        entries = self.env["account.move"].search_count([("move_type", "=", "entry")])
        with self.assertRaisesRegex(
            UserError, r"Provision Allowance Account: not set .*Settings > Collections"
        ):
            self._book(FEB)
        self.assertEqual(
            self.env["account.move"].search_count([("move_type", "=", "entry")]), entries
        )
        self.assertFalse(self._provisions())
        level = self.escalation.with_user(self.manager)
        for percent in (-1.0, 100.5):
            with self.assertRaisesRegex(ValidationError, r"Provision \(%\): stage"):
                level.provision_percent = percent
        with self.assertRaisesRegex(ValidationError, r"Provision at That Age \(%\)"):
            self.company.dunning_provision_age_percent = 120.0
        with self.assertRaisesRegex(ValidationError, "Provision Expense Account: .* not an"):
            self.company.dunning_provision_expense_account_id = self.allowance
        with self.assertRaisesRegex(ValidationError, "Provision Allowance Account: .* not a"):
            self.company.dunning_provision_allowance_account_id = self.expense

    def test_rights(self):
        """Collectors cannot book; the manager books; invoicing users and collectors read the
        report and change nothing in it."""
        move = self._invoice(self.customer, 60, 4000.0)
        self._run()
        with self.assertRaises(AccessError):
            self._book(FEB, user=self.collector)
        with self.assertRaises(AccessError):
            self.env["dunning.provision"].with_user(self.collector)._book(self.company, FEB)
        self.assertFalse(self._provisions())
        self._book(FEB)
        for user in (self.invoicing_user, self.collector):
            rows = self.env["dunning.provision"].with_user(user).search([])
            self.assertEqual(rows.move_id, move)
            self.assertEqual(rows.amount_provided, 2000.0)
            with self.assertRaises(AccessError):
                rows.write({"amount_provided": 0.0})
            with self.assertRaises(AccessError):
                rows.unlink()
        # The report groups by customer and stage.
        groups = (
            self.env["dunning.provision"]
            .with_user(self.invoicing_user)
            ._read_group(
                [("is_current", "=", True)], ["partner_id", "level_id"], ["amount_provided:sum"]
            )
        )
        self.assertEqual(groups, [(self.customer, self.escalation, 2000.0)])


@tagged("post_install", "-at_install")
class TestProvisionMultiCurrency(ProvisionCommon):
    """A USD invoice in a EUR company (issue 14)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2020-01-01", 1.0)])
        cls.usd = cls.company.currency_id
        cls.company_eu = cls.setup_other_company(name="EU Company", currency_id=cls.eur.id)[
            "company"
        ]
        # 1.25 USD per EUR in the EU company's books.
        cls.env["res.currency.rate"].create(
            [
                {"name": "2020-01-01", "rate": 1.0, "currency_id": cls.eur.id,
                 "company_id": cls.company_eu.id},
                {"name": "2020-01-01", "rate": 1.25, "currency_id": cls.usd.id,
                 "company_id": cls.company_eu.id},
            ]
        )  # fmt: skip
        allowance, expense = cls._provision_accounts(cls.company_eu)
        cls.company_eu.write(
            {
                "dunning_provision_allowance_account_id": allowance.id,
                "dunning_provision_expense_account_id": expense.id,
            }
        )
        cls.eu_allowance = allowance
        policy = cls.company_eu._dunning_get_default_policy()
        cls.eu_escalation = policy.level_ids.sorted("day_offset")[3]
        cls.eu_escalation.provision_percent = 50.0
        cls.eu_manager = new_test_user(
            cls.env,
            login="eu_manager",
            groups="dunning_b2b.group_dunning_manager",
            company_id=cls.company_eu.id,
            company_ids=[Command.set(cls.company_eu.ids)],
        )

    def test_usd_invoice_in_eur_company(self):
        """5,000.00 USD at 1.25 USD per EUR is 4,000.00 EUR open; at the escalation stage
        (50 %) February provides 2,000.00 EUR, in EUR. Paid in full (5,000.00 USD), March
        releases 2,000.00 EUR."""
        move = self._invoice(self.customer, 60, 5000.0, currency=self.usd, company=self.company_eu)
        receivable = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.assertEqual((receivable.amount_residual, receivable.amount_residual_currency),
                         (4000.0, 5000.0))  # fmt: skip
        self._run()
        self._book(FEB, user=self.eu_manager, company=self.company_eu)
        row = self._provisions(move_id=move.id)
        self.assertEqual(
            (row.company_id, row.currency_id, row.amount_residual_currency, row.amount_residual,
             row.amount_provided, row.company_currency_id),
            (self.company_eu, self.usd, 5000.0, 4000.0, 2000.0, self.eur),
        )  # fmt: skip
        allowance_line = row.entry_id.line_ids.filtered(
            lambda line: line.account_id == self.eu_allowance
        )
        self.assertEqual(
            (allowance_line.balance, allowance_line.currency_id, allowance_line.amount_currency),
            (-2000.0, self.eur, -2000.0),
        )
        # Company A's manager sees nothing of the EU company's provisions.
        self.assertFalse(self.env["dunning.provision"].with_user(self.manager).search([]))
        self.env["account.payment.register"].with_company(self.company_eu).with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": 5000.0, "payment_date": RUN_DATE})._create_payments()
        self._book(MAR, user=self.eu_manager, company=self.company_eu)
        release = self._provisions(move_id=move.id) - row
        self.assertEqual((release.amount, release.amount_provided), (-2000.0, 0.0))
