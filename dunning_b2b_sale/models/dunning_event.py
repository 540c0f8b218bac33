from odoo import fields, models


class DunningEvent(models.Model):
    _inherit = "dunning.event"

    event_type = fields.Selection(
        selection_add=[
            ("order_approval_requested", "Order approval requested"),
            ("order_approved", "Order approved on credit hold"),
            ("order_refused", "Order refused on credit hold"),
            ("order_portal_blocked", "Online confirmation stopped by credit hold"),
            ("order_invoiced_on_hold", "Order invoiced on credit hold"),
        ],
        ondelete={
            "order_approval_requested": "cascade",
            "order_approved": "cascade",
            "order_refused": "cascade",
            "order_portal_blocked": "cascade",
            "order_invoiced_on_hold": "cascade",
        },
    )
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Sales Order",
        index="btree_not_null",
        # The trail outlives the order: deleting it keeps its events (their note names it).
        ondelete="set null",
        readonly=True,
    )
