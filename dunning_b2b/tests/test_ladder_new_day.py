from datetime import timedelta

from odoo.tests import tagged

from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestLadderNewDay(ConversationCommon):
    """On a new day the ladder evaluates the customers whose data changed and those the
    date moves: a line reaching its next stage, a pause or hold that may end. The others
    would get nothing: they are left alone (at 100,000 lines, 97,722 lines of 10,000
    customers were evaluated every day for 2,154 that advanced)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.move = cls._invoice(cls.customer, 20, 500.0)  # formal notice (16), next at 46
        cls.other = cls._customer("Bolt Supplies", "ap@bolt.test")
        cls.other_move = cls._invoice(cls.other, 20, 800.0)

    def _run_company(self, days=0):
        return self._run(run_date=self.run_date + timedelta(days=days), companies=self.company)

    def _state(self, move):
        return self.env["dunning.line"].search([("move_id", "=", move.id)])

    def test_a_day_that_moves_nobody_evaluates_nobody(self):
        self.assertEqual(self._run_company()["evaluated"], 2)
        events = self.env["dunning.event"].search_count([])
        next_day = self._run_company(1)
        self.assertFalse(next_day["evaluated"])
        self.assertEqual(next_day["ladder_skipped"], 2)
        self.assertEqual(self.env["dunning.event"].search_count([]), events)
        # 46 days after the due date, both reach the next stage.
        later = self._run_company(26)
        self.assertEqual((later["evaluated"], later["advanced"]), (2, 2))
        self.assertEqual(self._state(self.move).level_id, self.escalation)

    def test_a_line_reaching_its_next_stage_is_evaluated_alone(self):
        newcomer = self._customer("Cogs", "ap@cogs.test")
        move = self._invoice(newcomer, 15, 300.0)  # follow-up today, formal notice tomorrow
        self._run_company()
        self.assertEqual(self._state(move).level_id, self.follow_up)
        stats = self._run_company(1)
        self.assertEqual((stats["evaluated"], stats["advanced"]), (1, 1))
        self.assertEqual(stats["ladder_skipped"], 2)
        self.assertEqual(self._state(move).level_id, self.formal)

    def test_a_pause_that_ended_is_cleared_the_day_after(self):
        """The promise ends by the date alone: the paused line is evaluated again and no
        longer shows the pause, though it reaches no stage."""
        self._run_company()
        self._promise(self.move, 500.0, 2)
        self._run_company(1)
        self.assertIn("promise to pay", self._state(self.move).pause_reason)
        stats = self._run_company(3)
        self.assertEqual(stats["evaluated"], 1, "the paused line, not the other customer")
        self.assertFalse(self._state(self.move).pause_reason)
