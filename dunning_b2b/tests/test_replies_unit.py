from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine import is_automatic_reply, reply_pause_until


@tagged("post_install", "-at_install")
class TestRepliesUnit(BaseCase):
    """Which incoming emails a person wrote, and the pause a reply sets off."""

    def test_headers_of_automatic_replies(self):
        for headers in (
            {"Auto-Submitted": ["auto-replied"]},
            {"auto-submitted": ["auto-generated"]},
            {"X-Autoreply": ["yes"]},
            {"X-Autorespond": ["Out of office"]},
            {"X-Auto-Response-Suppress": ["OOF"]},
            {"X-Auto-Response-Suppress": ["DR, RN, NRN, OOF, AutoReply"]},
            {"X-Auto-Response-Suppress": ["All"]},
            {"Precedence": ["auto_reply"]},
            {"Precedence": ["bulk"]},
            {"Precedence": ["junk"]},
            {"Precedence": ["list"]},
        ):
            self.assertTrue(is_automatic_reply(headers, "Re: Payment reminder"), headers)

    def test_subjects_of_automatic_replies(self):
        for subject in (
            "Out of Office: Re: Payment reminder",
            "Automatic reply: Payment reminder",
            "AutoReply: Payment reminder",
            "Abwesenheitsnotiz: Zahlungserinnerung",
            "Automatische Antwort: Zahlungserinnerung",
            "Réponse automatique : Rappel de paiement",
            "Respuesta automática: Recordatorio",
            "Automatisch antwoord: Betalingsherinnering",
            "Delivery Status Notification (Failure)",
            "Undeliverable: Payment reminder",
            "Unzustellbar: Zahlungserinnerung",
        ):
            self.assertTrue(is_automatic_reply({}, subject), subject)
        # Review finding: bounces from the mail system sent as plain emails.
        for sender in ("postmaster@acme.test", "MAILER-DAEMON@mx.acme.test"):
            self.assertTrue(is_automatic_reply({}, "Re: Payment reminder", sender), sender)

    def test_replies_written_by_a_person(self):
        for headers, subject in (
            ({}, "Re: Payment reminder"),
            ({"Auto-Submitted": ["no"]}, "Re: Payment reminder"),
            ({"X-Auto-Response-Suppress": ["DR, RN"]}, "Re: Payment reminder"),
            ({"Precedence": ["first-class"]}, "Re: Payment reminder"),
            ({}, "Re: Out of Office: your question"),
            ({}, "Absent-minded pricing on invoice 12"),
            ({}, ""),
        ):
            self.assertFalse(is_automatic_reply(headers, subject), (headers, subject))

    def test_pause_until(self):
        self.assertEqual(reply_pause_until(date(2026, 3, 2), 5), date(2026, 3, 7))
        self.assertIsNone(reply_pause_until(date(2026, 3, 2), 0))
