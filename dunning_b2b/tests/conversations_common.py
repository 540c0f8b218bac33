from datetime import timedelta

from odoo import Command
from odoo.tests import freeze_time, new_test_user

from .common import RUN_DATE, DunningCommon


class ConversationCommon(DunningCommon):
    """DunningCommon with a salesperson and helpers to record promises and disputes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env,
            login="seller",
            name="Sam Seller",
            email="sam@company.test",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _day(self, days):
        return RUN_DATE + timedelta(days=days)

    def _promise(self, moves, amount, days, user=None, **vals):
        """A promise recorded on RUN_DATE to pay ``amount`` ``days`` days later."""
        with freeze_time(RUN_DATE):
            return (
                self.env["dunning.promise"]
                .with_user(user or self.collector)
                .create(
                    {
                        "partner_id": moves.commercial_partner_id.id,
                        "move_ids": [Command.set(moves.ids)],
                        "amount": amount,
                        "promise_date": self._day(days),
                        **vals,
                    }
                )
            )

    def _dispute(self, move, reason="pricing", user=None, **vals):
        with freeze_time(RUN_DATE):
            return (
                self.env["dunning.dispute"]
                .with_user(user or self.collector)
                .create({"move_id": move.id, "reason": reason, **vals})
            )

    def _bodies(self, record):
        record.invalidate_recordset(["message_ids"])
        return "\n".join(str(body) for body in record.message_ids.mapped("body"))
