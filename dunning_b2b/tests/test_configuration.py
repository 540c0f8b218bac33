from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestConfiguration(DunningCommon):
    """Ladders as shipped, and the errors that tell an admin what to fix."""

    def test_default_ladder_as_shipped(self):
        policy = self.env.ref("dunning_b2b.dunning_policy_default").sudo()
        self.assertEqual(self.env.ref("base.main_company").dunning_policy_id, policy)
        refs = ["pre_due", "follow_up", "formal_notice", "escalation", "final"]
        levels = [self.env.ref(f"dunning_b2b.dunning_level_{ref}").sudo() for ref in refs]
        self.assertEqual([lvl.day_offset for lvl in levels], [-7, 1, 16, 46, 91])
        for level in levels[:4]:
            self.assertTrue(level.send_email)
            self.assertEqual(level.mail_template_id.model, "dunning.message")
        self.assertEqual(len({lvl.mail_template_id for lvl in levels[:4]}), 4)
        self.assertFalse(levels[2].automatic, "the formal notice is reviewed by a person")

    def test_new_company_gets_its_own_copy_of_the_ladder(self):
        self.assertEqual(self.policy.company_id, self.company)
        self.assertEqual(self.company.dunning_policy_id, self.policy)
        self.assertEqual(self.levels.mapped("day_offset"), [-7, 1, 16, 46, 91])

    def test_duplicate_offset(self):
        with self.assertRaisesRegex(ValidationError, r"Starts at \(days\).*day 16"):
            self.env["dunning.level"].create(
                {"policy_id": self.policy.id, "name": "Twin", "day_offset": 16,
                 "sequence": 99, "send_email": False}
            )  # fmt: skip

    def test_non_increasing_offsets(self):
        with self.assertRaisesRegex(ValidationError, r"Starts at \(days\).*Late.*day 30"):
            self.env["dunning.level"].create(
                {"policy_id": self.policy.id, "name": "Late", "day_offset": 30,
                 "sequence": 99, "send_email": False}
            )  # fmt: skip
        with self.assertRaisesRegex(ValidationError, "Starts at"):
            self.escalation.day_offset = 10

    def test_email_stage_needs_a_template(self):
        with self.assertRaisesRegex(ValidationError, "Email Template"):
            self.follow_up.mail_template_id = False
        self.follow_up.write({"send_email": False, "mail_template_id": False})
        self.assertFalse(self.follow_up.send_email)

    def test_policy_of_another_company(self):
        other = self.setup_other_company(name="Other Co")["company"]
        foreign = self.env["dunning.policy"].create({"name": "Foreign", "company_id": other.id})
        with self.assertRaisesRegex(ValidationError, "Company: policy"):
            self.policy.company_id = other
        with self.assertRaisesRegex(ValidationError, "Default Dunning Policy"):
            self.company.dunning_policy_id = foreign
        with self.assertRaisesRegex(ValidationError, "Dunning Policy"):
            self.customer.with_company(self.company).dunning_policy_id = foreign

    def test_customer_policy_is_used(self):
        firm = self.policy.copy({"name": "High risk"})
        firm.level_ids.sorted("day_offset")[2].day_offset = 8  # formal notice after a week
        self.customer.with_company(self.company).dunning_policy_id = firm
        move = self._invoice(self.customer, 10, 100)
        other = self._invoice(self._customer("Standard Co", "std@co.test"), 10, 100)
        self._run()
        self.assertEqual(move.dunning_level_id.policy_id, firm)
        self.assertEqual(move.dunning_level_id.day_offset, 8)
        self.assertEqual(other.dunning_level_id, self.follow_up)
