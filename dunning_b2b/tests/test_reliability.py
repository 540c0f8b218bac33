from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestReliability(DunningCommon):
    """Crashes, concurrency, bad data and delivery failures."""

    def test_crash_in_the_middle_of_a_batch_rolls_back_that_customer_only(self):
        """A fault after the stage was written but before the email was queued: that customer
        is rolled back whole and reported, the others go on, the next run completes it, and
        nobody gets a message twice."""
        customers = [self._customer(f"Crash {i}", f"ap{i}@crash.test") for i in range(3)]
        moves = [self._invoice(customer, 3, 100 + i) for i, customer in enumerate(customers)]
        self.env["ir.config_parameter"].sudo().set_param("dunning_b2b.batch_size", 2)
        Message = type(self.env["dunning.message"])
        original = Message._send
        fault = {"armed": True}

        def crash_for_second_customer(messages, *args, **kwargs):
            if fault["armed"] and customers[1] in messages.partner_id:
                raise RuntimeError("simulated crash in the middle of a batch")
            return original(messages, *args, **kwargs)

        cron = self.env.ref("dunning_b2b.ir_cron_dunning")
        with (
            patch.object(Message, "_send", crash_for_second_customer),
            freeze_time(RUN_DATE),
            self.enter_registry_test_mode(),
        ):
            cron.method_direct_trigger()
            self.assertEqual(moves[0].dunning_level_id, self.follow_up)
            self.assertEqual(moves[2].dunning_level_id, self.follow_up, "the run went on")
            self.assertFalse(moves[1].dunning_level_id, "nothing half-written for the failure")
            self.assertFalse(self._events(moves[1], "stage"))
            self.assertFalse(self._messages(customers[1]))
            failure = self.env["dunning.event"].search(
                [("partner_id", "=", customers[1].id), ("event_type", "=", "error")]
            )
            self.assertIn("simulated crash", failure.note)
            self.assertTrue(customers[1].activity_ids)
            fault["armed"] = False
            cron.method_direct_trigger()
        for customer, move in zip(customers, moves, strict=True):
            self.assertEqual(move.dunning_level_id, self.follow_up)
            self.assertEqual(len(self._messages(customer)), 1, "no message sent twice")
            self.assertEqual(len(self._events(move, "stage")), 1)
            self.assertEqual(len(self._events(move, "email")), 1)

    def test_concurrent_runs_never_process_the_same_customer(self):
        """Two real transactions: while run A holds a customer, run B skips it; once A has
        committed, B finds nothing left to do. Data is committed, so it is cleaned up."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            partner = env["res.partner"].create(
                {"name": "Concurrent Co", "email": "ap@concurrent.test", "is_company": True}
            )
            move = (
                env["account.move"]
                .with_company(company)
                .create(
                    {"move_type": "out_invoice", "partner_id": partner.id,
                     "invoice_date": "2026-02-01", "invoice_date_due": "2026-02-20",
                     "invoice_line_ids": [Command.create({"name": "x", "price_unit": 100.0,
                                                          "tax_ids": [Command.clear()]})]}
                )
            )  # fmt: skip
            move.action_post()
            partner_id, move_id = partner.id, move.id
        try:
            with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
                env_a = api.Environment(cr_a, SUPERUSER_ID, {})
                env_b = api.Environment(cr_b, SUPERUSER_ID, {})
                engine_a = env_a["dunning.engine"].sudo()
                engine_b = env_b["dunning.engine"].sudo()
                partner_a = env_a["res.partner"].browse(partner_id)
                # Run A takes the customer (as _run_batch does) and works on it.
                self.assertTrue(partner_a.try_lock_for_update(allow_referencing=True))
                stats_b = engine_b._run(
                    run_date=RUN_DATE, partners=env_b["res.partner"].browse(partner_id)
                )
                self.assertEqual(stats_b["locked_out"], 1)
                self.assertEqual(stats_b["advanced"], 0)
                cr_b.rollback()
                stats_a = engine_a._run(run_date=RUN_DATE, partners=partner_a)
                self.assertEqual(stats_a["advanced"], 1)
                cr_a.commit()
                stats_b = engine_b._run(
                    run_date=RUN_DATE, partners=env_b["res.partner"].browse(partner_id)
                )
                self.assertEqual(stats_b["advanced"], 0)
                self.assertEqual(stats_b["emails"], 0)
                cr_b.commit()
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                events = env["dunning.event"].search(
                    [("move_id", "=", move_id), ("event_type", "=", "stage")]
                )
                self.assertEqual(len(events), 1)
                messages = env["dunning.message"].search([("partner_id", "=", partner_id)])
                self.assertEqual(len(messages), 1)
        finally:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["dunning.message"].search([("partner_id", "=", partner_id)]).unlink()
                env["dunning.event"].search([("partner_id", "=", partner_id)]).unlink()
                env["mail.activity"].search(
                    [("res_model", "=", "res.partner"), ("res_id", "=", partner_id)]
                ).unlink()
                move = env["account.move"].browse(move_id)
                move.button_draft()
                move.button_cancel()
                env["res.partner"].browse(partner_id).active = False

    def test_invoice_without_due_date_is_reported_once(self):
        undated = self._invoice(self.customer, 20, 100)
        other = self._invoice(self._customer("Fine Co", "ap@fine.test"), 3, 100)
        self.env.flush_all()
        # The line's due date is what the engine reads (the header's is the last line's).
        self.env.cr.execute(
            "UPDATE account_move_line SET date_maturity = NULL WHERE move_id = %s", [undated.id]
        )
        self.env.cr.execute(
            "UPDATE account_move SET invoice_date_due = NULL WHERE id = %s", [undated.id]
        )
        self.env.invalidate_all()
        stats = self._run()
        self.assertEqual(stats["no_due_date"], 1)
        self.assertEqual(other.dunning_level_id, self.follow_up, "the run goes on for the others")
        (error,) = self._events(undated, "error")
        self.assertIn("No due date", error.note)
        self.assertEqual(undated.activity_ids.user_id, self.collector)
        self._run()
        self.assertEqual(len(self._events(undated, "error")), 1, "reported once")

    def test_archived_customer_is_still_chased(self):
        move = self._invoice(self.customer, 3, 100)
        self.customer.active = False
        self._run()
        self.assertEqual(move.dunning_level_id, self.follow_up)
        self.assertEqual(self._messages().state, "queued")

    def test_undeliverable_email_is_visible(self):
        self.customer.email = "not-an-email-address"
        move = self._invoice(self.customer, 3, 100)
        self._run()
        message = self._messages()
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        # What mail.mail._send does for an address it cannot use (sending is off in tests).
        mail.write({"state": "exception", "failure_reason": "Invalid address"})
        mail._postprocess_sent_message(
            success_pids=self.env["res.partner"],
            success_emails=[],
            failure_type="mail_email_invalid",
            failure_reason="Invalid address",
        )
        self.assertEqual(message.delivery_state, "failed")
        (failure,) = self._events(move, "delivery_failed")
        self.assertIn("not-an-email-address", failure.note)
        self.assertEqual(self._events(move, "email").delivery_state, "failed")
        self.assertTrue(self.customer.activity_ids.filtered(lambda a: "not delivered" in a.summary))
        self.assertIn("not delivered", str(move.message_ids[:1].body))

    def _deliver(self, mail, send_email):
        """Run the mail queue's real send for ``mail``: only the SMTP call is replaced (tests
        never open a connection), with ``send_email`` as what the server answers."""
        IrMailServer = type(self.env["ir.mail_server"])
        with (
            patch.object(IrMailServer, "_disable_send", lambda cls: False),
            patch.object(IrMailServer, "_connect__", lambda *args, **kwargs: None),
            patch.object(IrMailServer, "send_email", send_email),
        ):
            mail.send()

    def test_delivered_email_is_not_reported_as_failed(self):
        """mail.mail._send marks the notifications "exception" while it sends: a delivered
        email must not leave a failure event, note or task behind."""
        move = self._invoice(self.customer, 3, 100)
        self._run()
        message = self._messages()
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        self._deliver(mail, lambda *args, **kwargs: "<sent@test>")
        self.assertEqual(mail.state, "sent")
        self.assertEqual(message.delivery_state, "sent")
        self.assertFalse(self._events(move, "delivery_failed"))
        self.assertFalse(
            self.customer.activity_ids.filtered(lambda a: "not delivered" in a.summary)
        )

    def test_smtp_refusal_is_reported_once(self):
        move = self._invoice(self.customer, 3, 100)
        self._run()
        message = self._messages()
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        IrMailServer = self.env["ir.mail_server"]

        def refuse(*args, **kwargs):
            raise AssertionError(IrMailServer.NO_VALID_RECIPIENT)

        self._deliver(mail, refuse)
        self.assertEqual(mail.state, "exception")
        self.assertEqual(message.delivery_state, "failed")
        self.assertEqual(len(self._events(move, "delivery_failed")), 1)
        tasks = self.customer.activity_ids.filtered(lambda a: "not delivered" in a.summary)
        self.assertEqual(len(tasks), 1)
        self.assertNotIn("concurrent access", str(tasks.note))

    def test_bounce_is_visible(self):
        move = self._invoice(self.customer, 3, 100)
        self._run()
        message = self._messages()
        # As the mail gateway records a bounce.
        message.mail_message_id.notification_ids.sudo().write({"notification_status": "bounce"})
        self.assertEqual(message.delivery_state, "failed")
        self.assertTrue(self._events(move, "delivery_failed"))

    def test_every_company_owned_model_is_isolated(self):
        """Every model of the addon with a company has a company rule, and a collector of
        company A reads none of company B's records of it; a portal user reads nothing."""
        models = [
            name
            for name in self.env["ir.model"]
            .sudo()
            .search([("model", "=like", "dunning.%")])
            .mapped("model")
            if not self.env[name]._transient
            and not self.env[name]._abstract
            and "company_id" in self.env[name]._fields
            and self.env[name]._fields["company_id"].store
        ]
        self.assertGreaterEqual(len(models), 13)
        other = self.setup_other_company(name="Isolated Co")["company"]
        move = self._invoice(self.customer, 50, 100, company=other)
        self._run(companies=other)
        Env = self.env(context=dict(self.env.context, allowed_company_ids=other.ids))
        Env["dunning.promise"].create(
            {"partner_id": self.customer.id, "move_ids": [Command.set(move.ids)], "amount": 10,
             "promise_date": "2099-01-01", "company_id": other.id}
        )  # fmt: skip
        Env["dunning.dispute"].create(
            {"move_id": move.id, "reason": "pricing", "owner_id": self.env.user.id}
        )
        Env["dunning.segment.rule"].create({"segment": "high_large", "company_id": other.id})
        self.env["dunning.reevaluate.queue"].sudo()._enqueue({(self.customer.id, other.id)})
        self.env["dunning.reply"].sudo().create(
            {"partner_id": self.customer.id, "company_id": other.id,
             "date": "2026-03-02 10:00:00", "reply_date": "2026-03-02"}
        )  # fmt: skip
        self.env["dunning.resolution"].sudo().create(
            {"partner_id": self.customer.id, "company_id": other.id, "resolution_type": "legal",
             "line_ids": [Command.set(move.line_ids.filtered(
                 lambda line: line.account_type == "asset_receivable").ids)]}
        )  # fmt: skip
        # A doubtful debt provision of company B (issue 14).
        receivable = move.line_ids.filtered(lambda x: x.account_type == "asset_receivable")
        self.env["dunning.provision"].sudo().create(
            {"date": "2026-02-28", "company_id": other.id, "partner_id": self.customer.id,
             "move_line_id": receivable.id, "move_id": move.id, "amount_provided": 50.0,
             "amount": 50.0, "is_current": True}
        )  # fmt: skip
        # Late-payment charges and an agency commission of company B (issue 14).
        case_b = self.env["dunning.resolution"].sudo().search([("company_id", "=", other.id)])
        self.env["dunning.resolution.commission"].sudo().create(
            {"resolution_id": case_b.id, "company_id": other.id, "date": "2026-03-02",
             "payment_line_id": receivable.id, "amount_base": 100.0, "rate": 25.0,
             "amount": 25.0}
        )  # fmt: skip
        other._dunning_get_default_policy().sudo().write(
            {"charge_band_ids": [Command.create({"amount_from": 0, "fee": 40})],
             "charge_rate_ids": [Command.create({"date_from": "2026-01-01", "rate": 4.5})]}
        )  # fmt: skip
        self.env["dunning.charge"].sudo().create(
            {"move_line_id": receivable.id, "move_id": move.id, "partner_id": self.customer.id,
             "company_id": other.id, "currency_id": move.currency_id.id,
             "charge_type": "compensation", "state": "waived", "amount": 40,
             "date": "2026-03-02", "reason": "Isolation test"}
        )  # fmt: skip
        portal = new_test_user(self.env, login="portal_customer", groups="base.group_portal")
        for model in models:
            with self.subTest(model=model):
                rules = self.env["ir.rule"].sudo().search([("model_id.model", "=", model)])
                self.assertTrue(
                    any("company_ids" in (rule.domain_force or "") for rule in rules),
                    f"{model} has no company rule",
                )
                records = self.env[model].sudo().search([("company_id", "=", other.id)])
                if not records and model == "dunning.dispute.reason":
                    records = Env[model].sudo().create({"reason": "other", "company_id": other.id})
                self.assertTrue(records, f"no {model} record in company B to test with")
                self.assertFalse(
                    self.env[model].with_user(self.collector).search([("id", "in", records.ids)])
                )
                with self.assertRaises(AccessError):
                    records.with_user(self.collector).check_access("read")
                with self.assertRaises(AccessError):
                    self.env[model].with_user(portal).search([])
