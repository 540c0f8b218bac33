from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestMultiCompany(DunningCommon):
    """Each company runs its own ladder on its own invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.policy_b = cls.env["dunning.policy"].create(
            {
                "name": "Company B ladder",
                "company_id": cls.company_b.id,
                "level_ids": [
                    Command.create(
                        {"name": "B reminder", "day_offset": 5, "sequence": 1,
                         "mail_template_id": cls.follow_up.mail_template_id.id}
                    ),
                    Command.create(
                        {"name": "B final", "day_offset": 30, "sequence": 2, "send_email": False,
                         "create_activity": True}
                    ),
                ],
            }
        )  # fmt: skip
        cls.company_b.dunning_policy_id = cls.policy_b

    def test_companies_never_mix(self):
        move_a = self._invoice(self.customer, 10, 100)
        move_b = self._invoice(self.customer, 10, 100, company=self.company_b)
        self._run()
        self.assertEqual(move_a.dunning_level_id, self.follow_up)
        self.assertEqual(move_b.dunning_level_id.name, "B reminder")
        messages = self._messages()
        self.assertEqual(len(messages), 2)
        for message in messages:
            self.assertEqual(message.move_ids.company_id, message.company_id)
            self.assertEqual(message.level_id.company_id, message.company_id)
        self.assertEqual(self._events(move_b).company_id, self.company_b)

    def test_company_b_alone(self):
        move_a = self._invoice(self.customer, 10, 100)
        move_b = self._invoice(self.customer, 10, 100, company=self.company_b)
        self._run(companies=self.company_b)
        self.assertFalse(move_a.dunning_level_id)
        self.assertTrue(move_b.dunning_level_id)

    def test_collector_of_company_a_sees_nothing_of_company_b(self):
        move_b = self._invoice(self.customer, 10, 100, company=self.company_b)
        self._run()
        Event = self.env["dunning.event"].with_user(self.collector)
        self.assertFalse(Event.search([("company_id", "=", self.company_b.id)]))
        self.assertFalse(self.env["dunning.message"].with_user(self.collector).search(
            [("company_id", "=", self.company_b.id)]))  # fmt: skip
        with self.assertRaises(AccessError):
            self._events(move_b).with_user(self.collector).read(["note"])
        with self.assertRaises(AccessError):
            self.policy_b.with_user(self.collector).read(["name"])
