from odoo import fields, models
from odoo.exceptions import UserError


class ResPartner(models.Model):
    """The credit hold of a written-off customer says so, and is lifted with a reason."""

    _inherit = "res.partner"

    credit_hold_origin = fields.Selection(selection_add=[("write_off", "Written off")])

    def _inverse_credit_hold(self):
        written_off = self.filtered(
            lambda p: (
                not p.credit_hold
                # sudo: the open hold's origin, for the message (rights are checked by super)
                and self.env["dunning.credit.hold"]
                .sudo()
                ._get_open(p.commercial_partner_id, self.env.company)
                .filtered(lambda h: h.state == "active" and h.origin == "write_off")
            )
        )
        if written_off:
            self.env["dunning.credit.hold"]._check_dunning_manager()
            raise UserError(
                self.env._(
                    "Credit hold of %(customers)s: it was set when their receivables were "
                    "written off. Use Lift Credit Hold on the customer and give the reason.",
                    customers=", ".join(written_off.mapped("display_name")),
                )
            )
        return super()._inverse_credit_hold()
