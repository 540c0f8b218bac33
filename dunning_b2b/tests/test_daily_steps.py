from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDailySteps(DunningCommon):
    """The daily run reads top to bottom: an ordered list of steps, each company's checks in
    savepoints of their own, and the worklist computed after promises and holds."""

    def test_steps_run_in_order_with_the_worklist_after_the_decisions(self):
        labels = [label for label, _model, _method in self.env["dunning.engine"]._get_daily_steps()]
        self.assertLess(labels.index("promises"), labels.index("worklist"))
        self.assertLess(labels.index("hold lifts"), labels.index("worklist"))
        self.assertLess(labels.index("credit limits"), labels.index("worklist"))
        self.assertEqual(labels[-1], "kpis")
        for _label, model, method in self.env["dunning.engine"]._get_daily_steps():
            self.assertTrue(callable(getattr(self.env[model], method, None)), (model, method))

    @mute_logger("odoo.addons.dunning_b2b.models.dunning_engine")
    def test_a_failing_step_does_not_skip_the_next_ones_nor_the_next_company(self):
        other = self.setup_other_company(name="Other Collections Co")["company"]
        self._invoice(self.customer, 20, 500.0)
        calls = []
        Promise = type(self.env["dunning.promise"])
        original = Promise._check_due_promises

        def failing(promises, company, *args, **kwargs):
            calls.append(company)
            if company == self.company:
                raise RuntimeError("simulated failure of the promise check")
            return original(promises, company, *args, **kwargs)

        with patch.object(Promise, "_check_due_promises", failing):
            stats = self._run(companies=self.company | other)
        self.assertEqual(set(calls), {self.company, other}, "the next company was checked")
        self.assertGreaterEqual(stats["failed_steps"], 1)
        error = self.env["dunning.event"].search(
            [
                ("event_type", "=", "error"),
                ("company_id", "=", self.company.id),
                ("note", "ilike", "simulated failure"),
            ]
        )
        self.assertEqual(len(error), 1)
        self.assertIn("promises", error.note)
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(row, "the worklist step after the failing one still ran")
        self.assertEqual(self.customer.dunning_level_id, self.formal)
