from unittest.mock import patch

from odoo import Command
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestCompanyChecks(DunningCommon):
    """Each company's daily checks run in that company alone and in a savepoint of their
    own; the customer's figures are those of the company the user works in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.collector_b = new_test_user(
            cls.env,
            login="collector_b",
            name="Bob Collector",
            groups="dunning_b2b.group_dunning_user",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.company_b.dunning_collector_id = cls.collector_b
        cls.move_a = cls._invoice(cls.customer, 20, 100)
        cls.move_b = cls._invoice(cls.customer, 20, 200, company=cls.company_b)

    def _run_both(self):
        """The run of companies A and B as a user who selected both calls it (from the web
        client with companies A and B ticked)."""
        companies = self.company | self.company_b
        Engine = self.env["dunning.engine"].sudo().with_context(allowed_company_ids=companies.ids)
        return Engine._run(run_date=RUN_DATE, companies=companies)

    def test_each_company_checks_in_that_company_alone(self):
        seen = {}
        Promise = type(self.env["dunning.promise"])
        original = Promise._check_due_promises

        def spy(promises, company, *args, **kwargs):
            seen[company] = (promises.env.company, promises.env.companies)
            return original(promises, company, *args, **kwargs)

        with patch.object(Promise, "_check_due_promises", spy):
            self._run_both()
        self.assertEqual(
            seen,
            {
                self.company: (self.company, self.company),
                self.company_b: (self.company_b, self.company_b),
            },
        )

    @mute_logger("odoo.addons.dunning_b2b.models.dunning_engine")
    def test_a_failure_in_company_b_keeps_company_a_results(self):
        """Company B's check fails, and so does the report of that failure: company A's
        checks stay done (its worklist, its mark), company B's are tried again next run."""
        Engine = type(self.env["dunning.engine"])
        Worklist = type(self.env["dunning.worklist"])
        original_refresh = Worklist._refresh_daily
        company_b = self.company_b

        def refresh(rows, company, *args, **kwargs):
            if company == company_b:
                raise RuntimeError("simulated failure of company B's worklist")
            return original_refresh(rows, company, *args, **kwargs)

        def report(engine, company, *args, **kwargs):
            raise RuntimeError("simulated failure of the failure report")

        with (
            patch.object(Worklist, "_refresh_daily", refresh),
            patch.object(Engine, "_report_step_failure", report),
        ):
            stats = self._run_both()
        self.assertEqual(stats["failed_companies"], 1)
        rows = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(rows.company_id, self.company, "A's worklist is kept; B's never made")
        marks = self.env["dunning.daily.mark"].search([("run_date", "!=", False)])
        self.assertEqual(marks.company_id, self.company, "B's checks run again next time")
        self.assertEqual(self.move_a.dunning_level_id, self.formal)
        self.assertTrue(self.move_b.dunning_level_id, "B's ladder itself ran")

    # ------------------------------------------------------ figures per company
    def test_partner_figures_follow_the_company(self):
        """The customer's collections figures read in A then in B in one environment are
        each company's (the second read returned the first company's from the cache)."""
        self._run()
        with freeze_time(RUN_DATE):
            self.env["dunning.promise"].with_user(self.collector).create(
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(self.move_a.ids)],
                    "amount": 100,
                    "promise_date": RUN_DATE.replace(day=10),
                }
            )
            self.env["dunning.dispute"].with_user(self.collector_b).create(
                {"move_id": self.move_b.id, "reason": "pricing", "owner_id": self.collector_b.id}
            )
        self.env.invalidate_all()
        rows = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        row_a = rows.filtered(lambda r: r.company_id == self.company)
        row_b = rows - row_a
        partner = self.customer
        in_a, in_b = partner.with_company(self.company), partner.with_company(self.company_b)
        with freeze_time(RUN_DATE):
            figures = [
                (
                    p.dunning_worklist_id,
                    p.dunning_promise_count,
                    p.dunning_dispute_count,
                    p.dunning_dispute_open_count,
                    p.dunning_overdue_amount,
                    p.dunning_level_id.company_id,
                )
                for p in (in_a, in_b)
            ]
        self.assertEqual(figures[0], (row_a, 1, 0, 0, 100, self.company))
        self.assertEqual(figures[1], (row_b, 0, 1, 1, 200, self.company_b))
