from odoo import api, fields, models
from odoo.exceptions import ValidationError


class DunningLevel(models.Model):
    """A stage's percentage of provision for doubtful debts."""

    _inherit = "dunning.level"

    provision_percent = fields.Float(
        string="Provision (%)",
        help="Share of the open amount of the lines at this stage booked as a provision for "
        "doubtful debts (Collections > Analysis > Book Provisions). 0: none.",
    )

    @api.constrains("provision_percent")
    def _check_provision_percent(self):
        for level in self:
            if not 0.0 <= level.provision_percent <= 100.0:
                raise ValidationError(
                    self.env._(
                        "Provision (%%): stage %(stage)s has %(percent)s. Enter a percentage "
                        "between 0 and 100.",
                        stage=level.name,
                        percent=level.provision_percent,
                    )
                )
