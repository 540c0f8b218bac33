from datetime import timedelta

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import RUN_DATE
from .test_settlement import WriteOffCommon


@tagged("post_install", "-at_install")
class TestResolutionReview(WriteOffCommon):
    """Findings of the hostile review of final resolution cases (issue 14)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_2 = new_test_user(
            cls.env,
            login="dunning_manager_2",
            name="Mia Manager",
            groups="dunning_b2b.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _write_off(self, moves):
        Wizard = self.env["dunning.resolution.write.off"].with_user(self.manager)
        return Wizard.with_context(active_model="res.partner", active_id=self.customer.id).create(
            {"reason": "Insolvent", "line_ids": [Command.set(self._receivable(moves).ids)]}
        )

    def test_a_credit_is_never_written_off(self):
        """A payment on account of 1,000.00 is the customer's money, not a debt: a case or a
        write-off with its line is refused, nothing posted."""
        payment = self.env["account.payment"].create(
            {"payment_type": "inbound", "partner_type": "customer",
             "partner_id": self.customer.id, "amount": 1000.0, "date": RUN_DATE}
        )  # fmt: skip
        payment.action_post()
        with freeze_time(RUN_DATE), self.assertRaises(ValidationError) as error:
            self._write_off(payment.move_id).action_confirm()
        self.assertIn("no open debts", str(error.exception))
        self.assertFalse(self._bad_debt_lines())
        self.assertFalse(self._cases())

    def test_split_write_offs_need_the_approval_of_the_whole(self):
        """Threshold 5,000.00: two write-offs of 4,000.00 each; the second (8,000.00 in 12
        months) waits for a second manager."""
        self.company.dunning_write_off_threshold = 5000.0
        with freeze_time(RUN_DATE):
            first = self._invoice(self.customer, 95, 4000.0)
            second = self._invoice(self.customer, 95, 4000.0)
            self._write_off(first).action_confirm()
            self._write_off(second).action_confirm()
        cases = self._cases().sorted("id")
        self.assertEqual(cases.mapped("state"), ["done", "open"])
        self.assertEqual(cases[1].approval_state, "requested")
        self.assertEqual(self._bad_debt_lines().debit, 4000.0)

    def test_a_settlement_writing_off_above_the_threshold_needs_a_second_manager(self):
        """Threshold 5,000.00: settling 20,000.00 for 1.00 writes off 19,999.00: the
        settlement waits for a second manager, who agrees it."""
        self.company.dunning_write_off_threshold = 5000.0
        with freeze_time(RUN_DATE):
            self._invoice(self.customer, 95, 20000.0)
            self._run()
            case = self._cases().with_user(self.manager)
            case.write(
                {"resolution_type": "settlement", "settlement_amount": 1.0,
                 "settlement_date": RUN_DATE + timedelta(days=10)}
            )  # fmt: skip
            case.action_accept_settlement()
            self.assertEqual((case.approval_state, case.approval_amount), ("requested", 19999.0))
            self.assertNotEqual(case.settlement_state, "agreed")
            with self.assertRaisesRegex(UserError, "another dunning manager"):
                case.action_approve_write_off()
            case.with_user(self.manager_2).action_approve_write_off()
        self.assertEqual(case.settlement_state, "agreed")

    def test_resolution_fixed_once_opened(self):
        with freeze_time(RUN_DATE):
            self._invoice(self.customer, 95, 4000.0)
            self._run()
            case = self._cases().with_user(self.manager)
            case.write({"resolution_type": "settlement"})
            case.write(
                {"settlement_amount": 3000.0, "settlement_date": RUN_DATE + timedelta(days=5)}
            )
            case.action_accept_settlement()
            with self.assertRaisesRegex(UserError, "fixed once it is opened"):
                case.write({"resolution_type": "write_off"})

    def test_a_cancelled_case_is_not_proposed_again(self):
        with freeze_time(RUN_DATE):
            move = self._invoice(self.customer, 95, 4000.0)
            self._run()
            self._cases().with_user(self.manager).action_cancel()
            self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(self._cases().mapped("state"), ["cancelled"])
        # A declined proposal never paused its line: the case and the customer say so, the
        # invoice has nothing to resume.
        declined = self.env["dunning.event"].search(
            [("resolution_id", "=", self._cases().id), ("event_type", "=", "resolution_cancelled")]
        )
        self.assertEqual((len(declined), declined.move_id), (1, move.browse()))
        self.assertIn("proposal declined", declined.note)
        self.assertNotIn("resume the ladder", str(move.message_ids.mapped("body")))

    def test_bad_debt_account_must_be_an_expense_account(self):
        receivable = self._receivable(self._invoice(self.customer, 5, 10.0)).account_id
        with self.assertRaises(ValidationError) as error:
            self.company.dunning_bad_debt_account_id = receivable
        self.assertIn("Bad Debt Account", str(error.exception))

    def test_threshold_and_charge_account_are_checked(self):
        with self.assertRaises(ValidationError) as error:
            self.company.dunning_write_off_threshold = -1.0
        self.assertIn("Write-off Approval Above", str(error.exception))

    def test_charge_account_must_be_an_income_account(self):
        with self.assertRaises(ValidationError) as error:
            self.company.dunning_charge_account_id = self.bad_debt
        self.assertIn("Late-Payment Charge Income Account", str(error.exception))
