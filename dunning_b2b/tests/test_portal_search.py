from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestPortalSearch(DunningCommon):
    """Internal fields searched through their method refuse portal users: counting records
    would tell them the value (Odoo skips a field's groups in domains on such fields)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env,
            login="portal_searcher",
            name="Pia Portal",
            groups="base.group_portal",
            company_id=cls.company.id,
        )
        cls.portal.partner_id.parent_id = cls.customer

    def test_portal_cannot_search_internal_fields(self):
        move = self._invoice(self.customer, 10, 100)
        self._run()
        self.assertEqual(move.dunning_level_id, self.follow_up)
        env = self.env(user=self.portal, context={"allowed_company_ids": self.company.ids})
        searches = {
            "account.move": [("dunning_level_id", "in", [self.follow_up.id])],
            "res.partner": [("id", "=", self.customer.id), ("dunning_level_id", "in", [False])],
        }
        searches_hold = [("id", "=", self.customer.id), ("credit_hold", "=", True)]
        for model, domain in [*searches.items(), ("res.partner", searches_hold)]:
            with self.subTest(model=model, domain=domain), self.assertRaises(AccessError):
                call_kw(env[model], "search_count", [domain], {})
        # An internal user still searches them.
        collector_env = self.env(
            user=self.collector, context={"allowed_company_ids": self.company.ids}
        )
        self.assertEqual(
            call_kw(collector_env["account.move"], "search_count", [searches["account.move"]], {}),
            1,
        )
