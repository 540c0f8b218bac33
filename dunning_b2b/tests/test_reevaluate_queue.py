from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from ..models import dunning_reevaluate_queue
from ..models.dunning_engine_reevaluate import DunningEngine
from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestReevaluateQueue(DunningCommon):
    """A payment re-evaluates its customers at once when they are few; a bulk match (a bank
    statement paying many customers) queues them for a job, and a failing re-evaluation
    never undoes the payment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Queue = cls.env["dunning.reevaluate.queue"].sudo()
        cls.Worklist = cls.env["dunning.worklist"].sudo()

    def _customers_with_invoices(self, count):
        customers = self.env["res.partner"]
        moves = self.env["account.move"]
        for number in range(count):
            customer = self._customer(f"Customer {number}", f"ap{number}@customer.test")
            customers |= customer
            moves |= self._invoice(customer, 5, 100)
        self._run()
        return customers, moves

    def _pay_all(self, moves):
        """One payment per invoice, then all matched in one reconciliation plan, as a bank
        statement matched in bulk does."""
        plan = []
        for move in moves:
            payment = self.env["account.payment"].create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": move.partner_id.id,
                    "amount": move.amount_total,
                    "date": RUN_DATE,
                }
            )
            payment.action_post()
            plan.append(
                (payment.move_id.line_ids | move.line_ids).filtered(
                    lambda line: line.account_type == "asset_receivable"
                )
            )
        self.env["account.move.line"]._reconcile_plan(plan)

    def _run_job(self):
        """The re-evaluation job, through the scheduler's entry point."""
        job = self.env.ref("dunning_b2b.ir_cron_dunning_reevaluate").sudo()
        with freeze_time(RUN_DATE), self.enter_registry_test_mode():
            job.method_direct_trigger()

    def _rows(self, customers):
        return self.Worklist.search([("partner_id", "in", customers.ids)])

    def test_a_few_customers_paid_are_re_evaluated_at_once(self):
        customers, moves = self._customers_with_invoices(2)
        self.assertEqual(len(self._rows(customers)), 2)
        self._pay_all(moves)
        self.assertFalse(self._rows(customers), "paid: their rows are gone at once")
        self.assertFalse(self.Queue.search([]))

    def test_a_bulk_match_is_queued_and_the_job_catches_up(self):
        limit = 3
        customers, moves = self._customers_with_invoices(limit + 1)
        with patch.object(dunning_reevaluate_queue, "AT_ONCE_LIMIT", limit):
            self._pay_all(moves)
        self.assertEqual(len(self._rows(customers)), limit + 1, "not yet: queued")
        self.assertEqual(
            set(self.Queue.search([]).mapped("partner_id")), set(customers), "each once"
        )
        self._run_job()
        self.assertFalse(self._rows(customers))
        self.assertFalse(self.Queue.search([]))

    def test_a_failing_re_evaluation_does_not_undo_the_payment(self):
        customers, moves = self._customers_with_invoices(1)

        def fail(*args, **kwargs):
            raise ValueError("collections down")

        with (
            patch.object(DunningEngine, "_reevaluate_steps", fail),
            self.assertLogs("odoo.addons.dunning_b2b.models.dunning_reevaluate_queue", "ERROR"),
        ):
            self._pay_all(moves)
        self.assertIn(moves.payment_state, ("paid", "in_payment"), "the payment stands")
        self.assertEqual(self.Queue.search([]).partner_id, customers, "queued for the job")
        self._run_job()
        self.assertFalse(self._rows(customers))

    def test_the_job_retries_a_failing_batch_customer_by_customer(self):
        """One failing customer dropped the whole batch: the others were never re-evaluated."""
        limit = 1
        customers, moves = self._customers_with_invoices(limit + 1)
        with patch.object(dunning_reevaluate_queue, "AT_ONCE_LIMIT", limit):
            self._pay_all(moves)
        bad = customers[0]
        original = DunningEngine._reevaluate_customers

        def fail_for_bad(engine, company, partners, ladder=False):
            if bad in partners:
                raise ValueError("collections down for one customer")
            return original(engine, company, partners, ladder=ladder)

        with (
            patch.object(DunningEngine, "_reevaluate_customers", fail_for_bad),
            self.assertLogs("odoo.addons.dunning_b2b.models.dunning_reevaluate_queue", "ERROR"),
        ):
            self._run_job()
        self.assertEqual(self._rows(customers).partner_id, bad, "the others are up to date")
        self.assertFalse(self.Queue.search([]), "the failing one is left to the daily run")


@tagged("post_install", "-at_install")
class TestCollectorChatter(DunningCommon):
    """Collectors post on the customers they chase, not on any contact they can read."""

    def test_only_on_customers_dunned_in_their_companies(self):
        self._invoice(self.customer, 5, 1000)
        self._run()
        self.customer.with_user(self.collector).message_post(body="Pays Friday")
        for partner in (self.manager.partner_id, self._customer("Not dunned", "nd@x.test")):
            with self.assertRaises(AccessError):
                partner.with_user(self.collector).message_post(body="Forged")
