from contextlib import contextmanager

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.service.model import call_kw
from odoo.tests import freeze_time, new_test_user, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon


class ForgeryCommon(ConversationCommon):
    """Company A with a customer at the formal notice; company B with a customer of its own;
    a portal user. Everything is done as the collector of company A over RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.user_b = new_test_user(
            cls.env,
            login="collector_of_b",
            name="Bea of B",
            groups="dunning_b2b.group_dunning_user",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.portal = new_test_user(
            cls.env, login="portal_customer", name="Pat Portal", groups="base.group_portal"
        )
        cls.customer_b = cls._customer(
            "Secret Buyer of B", "secret@b.test", company_id=cls.company_b.id
        )
        cls.other = cls._customer("Other Customer", "ap@other.test")
        cls.contact = cls.env["res.partner"].create(
            {"name": "Acme Billing", "parent_id": cls.customer.id, "email": "bill@acme.test"}
        )
        cls.move = cls._invoice(cls.customer, 20, 1000)
        cls.other_move = cls._invoice(cls.other, 20, 500)

    @contextmanager
    def _refused(self, exception, pattern):
        """Like assertRaisesRegex, in a savepoint rolled back (as assertRaises does)."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertRegex(str(caught.exception), pattern)

    def _env(self, user):
        return self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})

    def _call(self, user, model, method, *args, **kwargs):
        return call_kw(self._env(user)[model], method, list(args), kwargs)

    def _receivable(self, moves):
        return moves.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _draft(self):
        self._run()
        message = self._messages()
        self.assertEqual((message.state, message.level_id), ("draft", self.formal))
        return message


@tagged("post_install", "-at_install")
class TestForgedMessages(ForgeryCommon):
    """A collector created a message for any customer (one of company B), stage, lines and
    recipients and sent it, or wrote a draft's recipients to an outsider; the preview,
    rendered as the system, then showed the outsider's data."""

    def test_collector_cannot_create_a_message(self):
        for partner, lines in (
            (self.customer_b, self._receivable(self.other_move)),
            (self.customer, self._receivable(self.other_move)),
        ):
            with self._refused(AccessError, "Run dunning now.*Send stage message"):
                self._call(
                    self.collector,
                    "dunning.message",
                    "create",
                    {
                        "date": RUN_DATE,
                        "partner_id": partner.id,
                        "level_id": self.final.id,
                        "line_ids": [Command.set(lines.ids)],
                        "recipient_ids": [Command.set(self.customer_b.ids)],
                    },
                )
        self.assertFalse(self.env["dunning.message"].search([]))

    def test_what_a_message_announces_is_locked(self):
        message = self._draft()
        for vals in (
            {"partner_id": self.other.id},
            {"level_id": self.final.id},
            {"line_ids": [Command.set(self._receivable(self.other_move).ids)]},
            {"move_ids": [Command.set(self.other_move.ids)]},
            {"collector_id": self.manager.id},
            {"company_id": self.company_b.id},
        ):
            with self._refused(AccessError, "Send stage message"):
                self._call(self.collector, "dunning.message", "write", message.ids, vals)
        self.assertEqual(message.partner_id, self.customer)
        self.assertEqual(message.level_id, self.formal)
        self.assertEqual(message.line_ids, self._receivable(self.move))

    def test_recipients_are_the_customers_contacts_with_an_email(self):
        message = self._draft()
        nameless = self.env["res.partner"].create(
            {"name": "No Mail", "parent_id": self.customer.id}
        )
        for outsider in (self.customer_b, self.other, nameless):
            with self._refused(ValidationError, "Recipients: .*Remove them"):
                self._call(
                    self.collector,
                    "dunning.message",
                    "write",
                    message.ids,
                    {"recipient_ids": [Command.link(outsider.id)]},
                )
        self._call(
            self.collector,
            "dunning.message",
            "write",
            message.ids,
            {"recipient_ids": [Command.set((self.customer | self.contact).ids)]},
        )
        self.assertEqual(message.recipient_ids, self.customer | self.contact)
        message.with_user(self.collector).action_send()
        self.assertIn("bill@acme.test", message.preview_email_to)

    def test_preview_of_a_changed_message_shows_nothing(self):
        """The form's onchange with another customer renders nothing as the system."""
        message = self._draft()
        result = self._call(
            self.collector,
            "dunning.message",
            "onchange",
            message.ids,
            {"partner_id": self.customer_b.id, "level_id": self.final.id},
            ["partner_id", "level_id"],
            {
                "partner_id": {},
                "level_id": {},
                "preview_body_html": {},
                "preview_email_to": {},
                "preview_subject": {},
            },
        )
        self.assertNotIn("Secret Buyer", str(result))
        # The message itself still previews its own customer.
        body = message.with_user(self.collector).preview_body_html
        self.assertIn("Acme Trading", body)


@tagged("post_install", "-at_install")
class TestForgedPromisesAndDisputes(ForgeryCommon):
    """A collector recorded a promise in a manager's name, dated last year, extended by
    more than a year (no manager, no extension event), and a dispute opened by a manager
    last year and owned by a portal user; and rewrote who recorded them and when."""

    def _promise_vals(self, **vals):
        return {
            "partner_id": self.customer.id,
            "move_ids": [Command.set(self.move.ids)],
            "amount": 1000,
            "promise_date": self._day(10),
            **vals,
        }

    @freeze_time(RUN_DATE)
    def test_promise_recorded_by_the_user_today(self):
        for vals, field in (
            ({"user_id": self.manager.id}, "Recorded By"),
            ({"date": "2025-01-01"}, "Recorded On"),
        ):
            with self._refused(AccessError, f"{field} of Promise to Pay is filled in"):
                self._call(self.collector, "dunning.promise", "create", self._promise_vals(**vals))
        with self._refused(AccessError, "Extended Until: only a dunning manager"):
            self._call(
                self.collector,
                "dunning.promise",
                "create",
                self._promise_vals(extension_date="2027-06-30"),
            )
        # The values the system fills are accepted as given.
        promise = self.env["dunning.promise"].browse(
            self._call(
                self.collector,
                "dunning.promise",
                "create",
                self._promise_vals(user_id=self.collector.id, date=RUN_DATE),
            )
        )
        self.assertEqual((promise.user_id, promise.date), (self.collector, RUN_DATE))
        for vals, field in (
            ({"user_id": self.manager.id}, "Recorded By"),
            ({"date": "2025-01-01"}, "Recorded On"),
        ):
            with self._refused(AccessError, field):
                self._call(self.collector, "dunning.promise", "write", promise.ids, vals)
        self.assertEqual((promise.user_id, promise.date), (self.collector, RUN_DATE))

    @freeze_time(RUN_DATE)
    def test_manager_records_an_extended_promise_as_an_extension(self):
        promise = self.env["dunning.promise"].browse(
            self._call(
                self.manager,
                "dunning.promise",
                "create",
                self._promise_vals(extension_date=self._day(20)),
            )
        )
        self.assertEqual(promise.extension_date, self._day(20))
        self.assertTrue(self._events(self.move, "promise_extended"))

    @freeze_time(RUN_DATE)
    def test_dispute_opened_by_the_user_today(self):
        for vals, field in (
            ({"user_id": self.manager.id}, "Opened By"),
            ({"date_opened": "2025-01-01"}, "Opened On"),
        ):
            with self._refused(AccessError, f"{field} of Invoice Dispute is filled in"):
                self._call(
                    self.collector,
                    "dunning.dispute",
                    "create",
                    {"move_id": self.move.id, "reason": "pricing", **vals},
                )
        for owner in (self.portal, self.user_b):
            with self._refused(ValidationError, "Owner: .*internal user working in"):
                self._call(
                    self.collector,
                    "dunning.dispute",
                    "create",
                    {"move_id": self.move.id, "reason": "pricing", "owner_id": owner.id},
                )
        dispute = self.env["dunning.dispute"].browse(
            self._call(
                self.collector,
                "dunning.dispute",
                "create",
                {"move_id": self.move.id, "reason": "pricing", "owner_id": self.salesperson.id},
            )
        )
        self.assertEqual((dispute.user_id, dispute.date_opened), (self.collector, RUN_DATE))
        for vals, field in (
            ({"user_id": self.manager.id}, "Opened By"),
            ({"date_opened": "2025-01-01"}, "Opened On"),
        ):
            with self._refused(AccessError, field):
                self._call(self.collector, "dunning.dispute", "write", dispute.ids, vals)
        with self._refused(ValidationError, "Owner: Pat Portal must be an internal"):
            self._call(
                self.collector,
                "dunning.dispute",
                "write",
                dispute.ids,
                {"owner_id": self.portal.id},
            )
        self.assertEqual(dispute.owner_id, self.salesperson)


@tagged("post_install", "-at_install")
class TestForgedCollectors(ForgeryCommon):
    """A portal user or a user of another company was accepted as a customer's collector
    (on the customer, through the worklist's Assign, as the company's default collector, in
    a segment's team, on a worklist row)."""

    def test_customer_collector_is_an_internal_user_of_the_company(self):
        for user in (self.portal, self.user_b):
            with self._refused(ValidationError, "Collector: .*internal user working in"):
                self._call(
                    self.collector,
                    "res.partner",
                    "write",
                    self.customer.ids,
                    {"dunning_collector_id": user.id},
                )
        self._call(
            self.collector,
            "res.partner",
            "write",
            self.customer.ids,
            {"dunning_collector_id": self.manager.id},
        )
        self.assertEqual(self.customer.dunning_collector_id, self.manager)

    def test_assign_takes_an_internal_user_of_the_rows_company(self):
        self._run()
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(row)
        for user in (self.portal, self.user_b):
            wizard = self._call(
                self.collector,
                "dunning.worklist.assign",
                "create",
                {"worklist_ids": [Command.set(row.ids)], "collector_id": user.id},
            )
            with self._refused(ValidationError, "Collector: .*internal user working in"):
                self._call(self.collector, "dunning.worklist.assign", "action_assign", [wizard])
        self.assertNotIn(self.customer.dunning_collector_id, self.portal | self.user_b)
        with self._refused(ValidationError, "Collector: .*internal user working in"):
            self._call(
                self.manager, "dunning.worklist", "write", row.ids, {"collector_id": self.portal.id}
            )

    def test_company_and_segment_collectors(self):
        with self._refused(ValidationError, "Default Collector: .*internal user"):
            self.company.dunning_collector_id = self.portal
        with self._refused(ValidationError, "Default Collector: Bea of B"):
            self.company.dunning_collector_id = self.user_b
        with self._refused(ValidationError, "Collectors: .*internal user working in"):
            self._call(
                self.manager,
                "dunning.segment.rule",
                "create",
                {
                    "segment": "high_large",
                    "company_id": self.company.id,
                    "collector_ids": [Command.set((self.collector | self.portal).ids)],
                },
            )
