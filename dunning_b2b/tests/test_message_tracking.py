from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import MailDeliveryException

from .common import RUN_DATE
from .replies_common import RepliesCommon


@tagged("post_install", "-at_install")
class TestMessageTracking(RepliesCommon):
    """Each reminder tells when it was delivered, opened and answered (and how)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.move = cls._invoice(cls.customer, 14, 1000, ref="PO-1")
        cls.other = cls._invoice(cls.customer, 12, 300, ref="PO-2")
        cls.env["dunning.engine"].sudo()._run(run_date=RUN_DATE)
        cls.message = cls.env["dunning.message"].search([("partner_id", "=", cls.customer.id)])
        assert len(cls.message) == 1 and cls.message.state == "queued", cls.message
        cls.public = cls.env.ref("base.public_user")

    def _deliver(self, send_email):
        """Run the mail queue's real send for the reminder's mail; only the SMTP call is
        replaced (tests never open a connection), answering with ``send_email``."""
        mail = self.env["mail.mail"].search(
            [("mail_message_id", "=", self.message.mail_message_id.id)]
        )
        IrMailServer = type(self.env["ir.mail_server"])
        with (
            patch.object(IrMailServer, "_disable_send", lambda cls: False),
            patch.object(IrMailServer, "_connect__", lambda *args, **kwargs: None),
            patch.object(IrMailServer, "send_email", send_email),
        ):
            mail.send(raise_exception=False)
        return mail

    def test_delivered_when_the_queue_sends(self):
        self.assertFalse(self.message.date_delivered)
        self.assertIn("Not delivered yet", self.message.tracking_status)
        with freeze_time(datetime(2026, 3, 2, 9, 30)):
            mail = self._deliver(lambda *args, **kwargs: "<sent@test>")
        self.assertEqual(mail.state, "sent")
        self.assertEqual(self.message.date_delivered, datetime(2026, 3, 2, 9, 30))
        self.assertIn("Delivered", self.message.tracking_status)
        # Shown on the worklist and on the customer.
        row = (
            self.env["dunning.worklist"]
            .with_user(self.collector)
            .search([("partner_id", "=", self.customer.id)])
        )
        self.assertIn("Delivered", row.reminder_status)
        self.assertIn("Delivered", self.customer.with_user(self.collector).dunning_reminder_status)

    def test_not_delivered_when_the_server_refuses(self):
        def refuse(*args, **kwargs):
            raise MailDeliveryException("Connection refused")

        with mute_logger("odoo.addons.mail.models.mail_mail"):
            self._deliver(refuse)
        self.assertFalse(self.message.date_delivered)
        self.assertIn("Not delivered", self.message.tracking_status)

    def test_opened_first_time_kept_and_counted(self):
        with freeze_time(datetime(2026, 3, 3, 8, 0)):
            self.message.with_user(self.public)._dunning_mark_opened()
        with freeze_time(datetime(2026, 3, 4, 8, 0)):
            self.message.with_user(self.public)._dunning_mark_opened()
        self.assertEqual(self.message.open_count, 2)
        self.assertTrue(self.message.date_opened)
        first = self.message.date_opened
        self.message.with_user(self.public)._dunning_mark_opened()
        self.message.invalidate_recordset()
        self.assertEqual(self.message.date_opened, first)
        self.assertEqual(self.message.open_count, 3)
        self.assertIn("(3×)", self.message.tracking_status)

    def test_answered_by_a_promise(self):
        self._promise(self.move, 500, 10)
        self.assertEqual(self.message.answer_type, "promised")
        self.assertTrue(self.message.date_answered)

    def test_answered_by_a_dispute_on_its_invoice(self):
        unlisted = self._invoice(self.customer, -20, 80)  # not due: in no reminder
        self._dispute(unlisted)
        self.assertFalse(self.message.answer_type)
        self._dispute(self.other)
        self.assertEqual(self.message.answer_type, "disputed")

    def test_answered_by_a_payment(self):
        self._pay(self.other, 300)
        self.assertEqual(self.message.answer_type, "paid")
        # The first answer stays.
        self._promise(self.move, 500, 10)
        self.assertEqual(self.message.answer_type, "paid")

    def test_answered_by_a_reply(self):
        self._receive(self._reply_email(self.message, "We will pay on Friday.", "t-1"))
        self.assertEqual(self.message.answer_type, "replied")
        self.assertIn("Replied", self.message.tracking_status)

    def test_not_answered_before_it_was_sent(self):
        # A promise recorded the day before the reminder went out does not answer it.
        Message = self.env["dunning.message"]
        Message._dunning_mark_answered(
            self.customer, self.company, "promised", datetime(2026, 3, 1, 12, 0)
        )
        self.assertFalse(self.message.answer_type)
        Message._dunning_mark_answered(
            self.customer,
            self.env["res.company"].create({"name": "Elsewhere"}),
            "promised",
            datetime(2026, 3, 3),
        )
        self.assertFalse(self.message.answer_type, "another company's answer")

    def test_tracking_is_written_by_the_system_only(self):
        for vals in (
            {"date_answered": RUN_DATE + timedelta(days=1)},
            {"answer_type": "paid"},
            {"date_delivered": RUN_DATE},
            {"open_count": 4},
        ):
            with self.assertRaises(AccessError):
                self.message.with_user(self.collector).write(vals)
