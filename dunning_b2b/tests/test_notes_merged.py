from datetime import timedelta
from unittest.mock import patch

from markupsafe import Markup

from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from . import test_bulk
from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestNotesMerged(DunningCommon):
    """A ladder batch leaves one chatter note per invoice, its paragraphs in the order the
    steps logged them; other records' notes are written at once; a customer whose batch
    fails leaves none of the notes of the work rolled back."""

    _rows = test_bulk.TestBulkWriters._rows

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

    def test_merged_note_as_the_orm_writes_it(self):
        """The note of a batch is the row message_post writes for its paragraphs."""
        Bulk = self.env["dunning.bulk"]
        move = self._invoice(self.customer, 3, 100.0)
        author = self.company.partner_id
        first, second = Markup("Dunning stage reached: <b>x</b>"), Markup("Dunning email: y")
        with Bulk._merging_notes():
            Bulk._log_notes("account.move", {move.id: first}, author)
            Bulk._log_notes("account.move", {move.id: second}, author)
            self.assertFalse(self._notes(move), "written when the batch ends")
        bulk = self._notes(move)
        self.assertEqual(len(bulk), 1)
        self.assertEqual(bulk.body, Markup("<p>%s</p><p>%s</p>") % (first, second))
        rows = self._rows("mail_message", SQL("id = %s", bulk.id), test_bulk.MESSAGE_DIFFER)
        bulk.unlink()
        orm = move.message_post(
            body=Markup("<p>%s</p><p>%s</p>") % (first, second),
            author_id=author.id,
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )
        self.assertEqual(
            rows, self._rows("mail_message", SQL("id = %s", orm.id), test_bulk.MESSAGE_DIFFER)
        )

    def test_other_models_notes_are_written_at_once(self):
        """A note on a customer keeps its place among the messages Odoo posts meanwhile."""
        Bulk = self.env["dunning.bulk"]
        with Bulk._merging_notes():
            Bulk._log_notes(
                "res.partner", {self.customer.id: Markup("Dunning hold")}, self.company.partner_id
            )
            self.assertEqual(len(self._notes(self.customer)), 1)

    def test_a_record_deleted_before_the_end_gets_no_note(self):
        Bulk = self.env["dunning.bulk"]
        draft = self.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": self.customer.id}
        )
        kept = self._invoice(self.customer, 3, 100.0)
        with Bulk._merging_notes():
            Bulk._log_notes(
                "account.move",
                {draft.id: Markup("Dunning a"), kept.id: Markup("Dunning b")},
                self.company.partner_id,
            )
            draft.unlink()
        self.assertEqual(len(self._notes(kept)), 1)
        self.assertFalse(
            self.env["mail.message"].search_count(
                [("model", "=", "account.move"), ("res_id", "=", draft.id)]
            )
        )
