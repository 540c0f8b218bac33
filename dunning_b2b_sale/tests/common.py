from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.dunning_b2b.tests.common import RUN_DATE, DunningCommon


class SaleHoldCommon(DunningCommon):
    """Acme on credit hold in the main company, a salesperson and an approving manager."""

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref("sales_team.group_sale_manager")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        cls.seller = new_test_user(
            cls.env,
            login="seller",
            name="Sam Seller",
            email="sam@company.test",
            groups="sales_team.group_sale_salesman",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        cls.manager.group_ids |= cls.env.ref("sales_team.group_sale_salesman_all_leads")
        cls.product = cls.env["product.product"].create(
            {"name": "Pallet of bolts", "list_price": 500.0, "type": "consu", "taxes_id": False}
        )
        # A hold as the system writes it (users hold a customer with Put on Credit Hold).
        cls.env["dunning.credit.hold"].sudo().create(
            {
                "partner_id": cls.customer.id,
                "company_id": company.id,
                "origin": "manager",
                "state": "active",
                "reason": "Three invoices 60 days late",
                "date_start": RUN_DATE,
                "user_id": cls.manager.id,
            }
        )
        cls.free_customer = cls._customer("Free Customer", "ap@free.test")

    @classmethod
    def _order(cls, partner=None, company=None, user=None):
        company = company or cls.company
        return (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": (partner or cls.customer).id,
                    "company_id": company.id,
                    "user_id": (user or cls.seller).id,
                    "order_line": [
                        Command.create({"product_id": cls.product.id, "product_uom_qty": 2})
                    ],
                }
            )
        )

    def _order_events(self, order, event_type):
        return self.env["dunning.event"].search(
            [("sale_order_id", "=", order.id), ("event_type", "=", event_type)]
        )
