from datetime import date, timedelta

from odoo import Command
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestSegmentation(DunningCommon):
    """Segments computed by the daily job from fixed data, and what they drive."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "dunning_large_exposure": 10000,
                "dunning_medium_days_late": 10,
                "dunning_high_days_late": 30,
                "dunning_medium_on_time": 0,  # days late alone decide in these tests
                "dunning_medium_disputes": 0,
                "dunning_manager_id": cls.manager.id,
            }
        )

    def _pay_on(self, move, pay_date):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"payment_date": pay_date})._create_payments()

    def _segment(self, partner):
        partner.invalidate_recordset(["dunning_segment"])
        return partner.with_company(self.company).dunning_segment

    def _row(self, partner):
        return self.env["dunning.worklist"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def test_segment_boundaries(self):
        cases = {
            # name: (days overdue, amount, expected segment)
            "Nine": (9, 9999.99, "low_small"),
            "Ten": (10, 10000, "medium_large"),
            "TwentyNine": (29, 500, "medium_small"),
            "Thirty": (30, 500, "high_small"),
            "Ninety": (90, 25000, "high_large"),
        }
        partners = {}
        for name, (days, amount, _expected) in cases.items():
            partners[name] = self._customer(name, f"{name.lower()}@test.example")
            self._invoice(partners[name], days, amount)
        with freeze_time(RUN_DATE):
            stats = self._run()
        self.assertEqual(stats["segments_changed"], len(cases))
        for name, (days, amount, expected) in cases.items():
            with self.subTest(customer=name):
                self.assertEqual(self._segment(partners[name]), expected)
                row = self._row(partners[name])
                self.assertEqual(row.segment, expected)
                self.assertEqual(row.exposure, amount)
                self.assertEqual(row.overdue_amount, amount)
                self.assertEqual(row.max_days_overdue, days)
                self.assertAlmostEqual(row.avg_days_late, days)
                events = self.env["dunning.event"].search(
                    [("partner_id", "=", partners[name].id), ("event_type", "=", "segment")]
                )
                self.assertEqual(len(events), 1)

    def test_paid_history_counts_at_its_payment_date(self):
        prompt = self._customer("Prompt Payer", "prompt@test.example")
        paid = self._invoice(prompt, 40, 3000)
        self._pay(paid, 3000)  # paid the day before RUN_DATE: 39 days late
        self._invoice(prompt, 5, 1000)
        with freeze_time(RUN_DATE):
            self._run()
        row = self._row(prompt)
        # (3000 x 39 + 1000 x 5) / 4000
        self.assertAlmostEqual(row.avg_days_late, 30.5)
        self.assertEqual(row.segment, "high_small")
        self.assertEqual(row.exposure, 1000)

    def test_pinned_segment_is_kept(self):
        self._invoice(self.customer, 90, 500)
        self.customer.with_company(self.company).with_user(
            self.manager
        ).dunning_segment = "low_small"
        self.assertTrue(self.customer.with_company(self.company).dunning_segment_pinned)
        with freeze_time(RUN_DATE):
            self._run()
        self.assertEqual(self._segment(self.customer), "low_small")
        self.assertEqual(self._row(self.customer).segment, "low_small")
        self.assertEqual(self._row(self.customer).risk_level, "low")

    def test_segment_rule_gives_ladder_and_collector(self):
        firm = self.policy.copy({"name": "High risk"})
        firm.level_ids.sorted("day_offset")[2].day_offset = 8
        senior = self.manager
        self.env["dunning.segment.rule"].create(
            {"segment": "high_small", "policy_id": firm.id,
             "collector_ids": [Command.set(senior.ids)]}
        )  # fmt: skip
        late = self._customer("Late Payer", "late@test.example")
        old = self._invoice(late, 40, 500)
        with freeze_time(RUN_DATE):
            self._run()
        self.assertEqual(self._segment(late), "high_small")
        self.assertEqual(late.with_company(self.company).dunning_collector_id, senior)
        self.assertEqual(self._row(late).collector_id, senior)
        new = self._invoice(late, 9, 300)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(new.dunning_level_id.policy_id, firm, "the segment's ladder")
        self.assertEqual(new.dunning_level_id.day_offset, 8)
        self.assertEqual(old.dunning_level_id.policy_id, self.policy, "stages never go back")

    def test_deterioration_flags_a_credit_review(self):
        # Last quarter: invoices settled at the pre-due stage.
        due = date(2025, 11, 20)
        former = self._invoice(self.customer, (RUN_DATE - due).days, 800)
        self._run(run_date=date(2025, 11, 15))
        self.assertEqual(former.dunning_level_id, self.pre_due)
        self._pay_on(former, date(2025, 11, 19))
        # Slow payer for comparison: reached the early follow-up last quarter.
        slow = self._customer("Always Slow", "slow@test.example")
        slow_former = self._invoice(slow, (RUN_DATE - due).days, 800)
        self._run(run_date=date(2025, 11, 25))
        self.assertEqual(slow_former.dunning_level_id, self.follow_up)
        self._pay_on(slow_former, date(2025, 11, 26))
        # This quarter: both reach the formal notice.
        self._invoice(self.customer, 20, 900)
        self._invoice(slow, 20, 900)
        with freeze_time(RUN_DATE):
            stats = self._run()
        self.assertEqual(stats["credit_reviews"], 1)
        row = self._row(self.customer)
        self.assertTrue(row.credit_review)
        self.assertEqual((row.rank_last_quarter, row.rank_this_quarter), (1, 3))
        self.assertFalse(self._row(slow).credit_review)
        review = self.customer.activity_ids.filtered(lambda a: "Credit review" in a.summary)
        self.assertEqual(review.user_id, self.manager)
        event = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "credit_review")]
        )
        self.assertEqual(len(event), 1)
        self.assertIn("stage 3", event.note)
        with freeze_time(RUN_DATE):
            self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(
            len(self.customer.activity_ids.filtered(lambda a: "Credit review" in a.summary)),
            1,
            "one review per quarter",
        )

    def test_a_segment_that_changes_the_ladder_is_news_for_the_ladder(self):
        """The daily checks' own writes are not journaled, and a new day evaluates only the
        customers the date moves: a customer whose new segment gives it another ladder is
        journaled, so that the ladder weighs its lines by that ladder's minimum the next
        day, not at its next stage a month later."""
        firm = self.policy.copy({"name": "High risk", "minimum_amount": 1000.0})
        self.env["dunning.segment.rule"].create({"segment": "high_small", "policy_id": firm.id})
        late = self._customer("Late Payer", "late@test.example")
        move = self._invoice(late, 40, 500)
        with freeze_time(RUN_DATE):
            self._run()
        self.assertEqual(self._segment(late), "high_small")
        line = self.env["dunning.line"].search([("move_id", "=", move.id)])
        self.assertEqual((line.level_id, line.pause_reason), (self.formal, False))
        self._run(run_date=RUN_DATE + timedelta(days=1))
        line.invalidate_recordset()
        self.assertEqual(line.pause_reason, "open amount below the policy's minimum")
