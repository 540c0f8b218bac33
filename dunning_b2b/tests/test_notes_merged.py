from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestNotesMerged(DunningCommon):
    """A run leaves one chatter note per invoice (and per customer), its paragraphs in the
    order the steps logged them; a customer whose batch fails leaves none of the notes of
    the work rolled back."""

    def _notes(self, record):
        note = self.env.ref("mail.mt_note")
        return record.message_ids.filtered(
            lambda m: m.subtype_id == note and "Dunning" in str(m.body)
        ).sorted("id")

    def test_one_note_per_invoice_and_run(self):
        move = self._invoice(self.customer, 3, 400)
        stats = self._run()
        self.assertEqual(stats["emails"], 1)
        notes = self._notes(move)
        self.assertEqual(len(notes), 1, "stage reached and email sent: one note, not two")
        body = str(notes.body)
        stage = body.index("Dunning stage reached:")
        email = body.index("Dunning email:")
        self.assertLess(stage, email, "the steps' paragraphs in the order logged")
        self.assertIn(self.follow_up.name, body)
        self.assertIn("ap@acme.test", body)
        self.assertEqual(notes.author_id, self.company.partner_id)
        self.assertEqual(body.count("<p>"), 2, "each step's text a paragraph of its own")

    def test_next_run_adds_its_own_note(self):
        move = self._invoice(self.customer, 3, 400)
        self._run()
        self._run(run_date=self.run_date + timedelta(days=self.formal.day_offset - 3))
        self.assertEqual(len(self._notes(move)), 2, "one note per run that changed the invoice")

    @mute_logger(
        "odoo.addons.dunning_b2b.models.dunning_engine",
        "odoo.addons.dunning_b2b.models.dunning_ladder",
    )
    def test_failed_customer_keeps_no_note_of_the_work_undone(self):
        broken = self._customer("Broken Data Inc", "ap@broken.test")
        broken_move = self._invoice(broken, 3, 50)
        good_move = self._invoice(self.customer, 3, 60)
        Activity = type(self.env["mail.activity"])
        close = Activity._dunning_close_passed_tasks

        def failing(self_, company, run_date, user, stats, advances):
            # After the stage entries, emails and their notes of the batch
            if any(advance.partner_id == broken.id for advance in advances):
                raise RuntimeError("simulated failure after the notes were logged")
            return close(self_, company, run_date, user, stats, advances)

        with patch.object(Activity, "_dunning_close_passed_tasks", failing):
            stats = self._run()
        self.assertEqual(stats["failed_customers"], 1)
        self.assertFalse(self._notes(broken_move), "its stage and email were rolled back")
        self.assertFalse(broken_move.dunning_level_id)
        self.assertEqual(len(self._notes(good_move)), 1)
        self.assertTrue(broken.activity_ids, "the failure is reported on the customer")
