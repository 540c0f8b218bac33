from odoo import fields, models


class ResPartner(models.Model):
    """The credit hold of a written-off customer says so."""

    _inherit = "res.partner"

    credit_hold_origin = fields.Selection(selection_add=[("write_off", "Written off")])
