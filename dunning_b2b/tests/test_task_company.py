from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestTaskCompany(DunningCommon):
    """Which company's collections a task on a customer is for, and which stage made it, are
    the system's: a user cannot file a task in another company or bind it to a stage."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.partner_model_id = cls.env["ir.model"]._get_id("res.partner")
        cls.todo = cls.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        # A customer collections chase: collectors work on it (and its tasks) in company A.
        cls._invoice(cls.customer, 10, 100)
        cls.env["dunning.engine"].sudo()._run(run_date=cls.run_date)

    def _env(self, user, **context):
        return self.env(user=user, context={"allowed_company_ids": user.company_ids.ids, **context})

    def _vals(self, **vals):
        return {
            "res_model_id": self.partner_model_id,
            "res_id": self.customer.id,
            "activity_type_id": self.todo.id,
            "summary": "Phone the customer",
            "user_id": self.collector.id,
            **vals,
        }

    def test_create_in_another_company_is_refused(self):
        env = self._env(self.collector)
        with self.assertRaises(AccessError) as caught:
            call_kw(
                env["mail.activity"],
                "create",
                [self._vals(dunning_company_id=self.company_b.id)],
                {},
            )
        self.assertIn("Collections Company", str(caught.exception))
        with self.assertRaises(AccessError) as caught:
            call_kw(
                env["mail.activity"], "create", [self._vals(dunning_level_id=self.formal.id)], {}
            )
        self.assertIn("Dunning Stage", str(caught.exception))
        # In the user's own company, given or not, the task is that company's.
        ids = call_kw(
            env["mail.activity"], "create", [self._vals(dunning_company_id=self.company.id)], {}
        )
        self.assertEqual(self.env["mail.activity"].browse(ids).dunning_company_id, self.company)

    def test_write_is_refused(self):
        env = self._env(self.collector)
        ids = call_kw(env["mail.activity"], "create", [self._vals()], {})
        task = self.env["mail.activity"].browse(ids)
        self.assertEqual(task.dunning_company_id, self.company)
        for vals in (
            {"dunning_company_id": self.company_b.id},
            {"dunning_company_id": False},
            {"dunning_level_id": self.formal.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                call_kw(env["mail.activity"], "write", [task.ids, vals], {})
        self.assertEqual(task.dunning_company_id, self.company)
        self.assertFalse(task.dunning_level_id)
        # Other fields of the task are the assignee's to change.
        call_kw(env["mail.activity"], "write", [task.ids, {"summary": "Phone again"}], {})

    def test_default_res_model_gets_the_company(self):
        """A form opened on a customer gives its model in the context only."""
        env = self._env(self.collector)
        context = dict(
            env.context,
            default_res_model="res.partner",
            default_res_model_id=self.partner_model_id,
        )
        vals = self._vals()
        del vals["res_model_id"]
        # As RPC does: the request's context comes in the call.
        ids = call_kw(env["mail.activity"], "create", [vals], {"context": context})
        task = self.env["mail.activity"].browse(ids)
        self.assertEqual(task.res_model, "res.partner")
        self.assertEqual(task.dunning_company_id, self.company)
