from odoo import Command
from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import freeze_time, new_test_user, tagged

from .common import RUN_DATE, DunningCommon

LETTERS = (
    "dunning_b2b.report_formal_notice",
    "dunning_b2b.report_demand_letter",
    "dunning_b2b.report_dunning_letter",
    "dunning_b2b.report_customer_statement",
)


@tagged("post_install", "-at_install")
class TestLetterRights(DunningCommon):
    """Found: a billing-only user (no collections right) excluded an invoice from dunning
    with a plain ``write`` although the Exclude button refuses them, and rendered the formal
    notice through ``_render_qweb_pdf`` (what /report/download calls), which logged a
    "letter" event and cleared the worklist's letter to print: the reports' group_ids are
    not checked there."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = new_test_user(
            cls.env,
            login="seller",
            name="Sam Seller",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        contact = cls.env["res.partner"].create(
            {"name": "Paula Portal", "parent_id": cls.customer.id, "email": "paula@acme.test"}
        )
        cls.portal = new_test_user(
            cls.env,
            login="paula",
            groups="base.group_portal",
            partner_id=contact.id,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.move = cls._invoice(cls.customer, 20, 700)

    def _env(self, user):
        return self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})

    def _letters(self):
        return self.env["dunning.event"].search(
            [("event_type", "=", "letter"), ("partner_id", "=", self.customer.id)]
        )

    # ------------------------------------------------------------- exclusion
    def test_only_collectors_exclude_an_invoice(self):
        Move = self._env(self.invoicing_user)["account.move"]
        for vals in ({"dunning_excluded": True}, {"dunning_excluded": 1}):
            with self.assertRaisesRegex(AccessError, "Exclude from Dunning.*Collections / User"):
                call_kw(Move, "write", [self.move.ids, vals], {})
        with self.assertRaisesRegex(AccessError, "Collections / User"):
            call_kw(Move, "action_dunning_exclude", [self.move.ids], {})
        for user in (self.salesperson, self.portal):  # no right on invoices at all
            with self.assertRaises(AccessError):
                call_kw(
                    self._env(user)["account.move"],
                    "write",
                    [self.move.ids, {"dunning_excluded": True}],
                    {},
                )
        self.assertFalse(self.move.dunning_excluded)
        self.assertFalse(self._events(self.move, "excluded"))
        # Nor on a new invoice.
        with self.assertRaisesRegex(AccessError, "Exclude from Dunning.*Collections / User"):
            call_kw(
                Move,
                "create",
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.customer.id,
                        "dunning_excluded": True,
                    }
                ],
                {},
            )
        # The rest of the invoice stays theirs; the value written unchanged passes.
        call_kw(
            Move,
            "write",
            [self.move.ids, {"narration": "Call before delivery", "dunning_excluded": False}],
            {},
        )
        # A collector excludes, by the button or by a write, with the event either way.
        Move = self._env(self.collector)["account.move"]
        call_kw(Move, "write", [self.move.ids, {"dunning_excluded": True}], {})
        self.assertTrue(self.move.dunning_excluded)
        self.assertEqual(self._events(self.move, "excluded").user_id, self.collector)
        call_kw(Move, "action_dunning_include", [self.move.ids], {})
        self.assertFalse(self.move.dunning_excluded)
        with self.assertRaisesRegex(AccessError, "Collections / User"):
            call_kw(
                self._env(self.invoicing_user)["account.move"],
                "write",
                [self.move.ids, {"dunning_excluded": True}],
                {},
            )

    # ---------------------------------------------------------------- letters
    def test_letters_need_collections_rights(self):
        with freeze_time(RUN_DATE):
            self._run()
        row = self.env["dunning.worklist"].search(
            [("partner_id", "=", self.customer.id), ("company_id", "=", self.company.id)]
        )
        self.assertTrue(row.letter_due)
        before = self._letters()
        for user in (self.invoicing_user, self.salesperson, self.portal):
            env = self._env(user)
            for report in LETTERS:
                with (
                    self.subTest(user=user.login, report=report),
                    freeze_time(RUN_DATE),
                    self.assertRaisesRegex(
                        AccessError, r"Printing the .* needs Collections / User access"
                    ),
                ):
                    env["ir.actions.report"]._render_qweb_pdf(report, self.customer.ids)
                with (
                    self.subTest(user=user.login, report=report, html=True),
                    self.assertRaisesRegex(AccessError, "needs Collections / User access"),
                ):
                    env["ir.actions.report"]._render_qweb_html(report, self.customer.ids)
                with self.assertRaisesRegex(AccessError, "needs Collections / User access"):
                    env[f"report.{report}"]._get_report_values(self.customer.ids)
        self.assertEqual(self._letters(), before, "nothing printed, nothing logged")
        self.assertTrue(row.letter_due)
        # The collector prints: the letter is logged and no longer due.
        env = self._env(self.collector)
        with freeze_time(RUN_DATE):
            html, _kind = env["ir.actions.report"]._render_qweb_pdf(
                "dunning_b2b.report_formal_notice", self.customer.ids
            )
        self.assertIn(self.move.name, html.decode())
        printed = self._letters() - before
        self.assertTrue(printed)
        self.assertEqual(printed.user_id, self.collector)
        self.assertFalse(row.letter_due)

    def test_the_print_menu_offers_letters_to_collectors_only(self):
        for xmlid in (
            "dunning_b2b.action_report_formal_notice",
            "dunning_b2b.action_report_demand_letter",
            "dunning_b2b.action_report_customer_statement",
        ):
            self.assertEqual(
                self.env.ref(xmlid).group_ids, self.env.ref("dunning_b2b.group_dunning_user")
            )
