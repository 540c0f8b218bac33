from odoo import api, fields, models

EVENT_TYPES = [
    ("stage", "Stage reached"),
    ("email", "Email queued"),
    ("email_draft", "Message to review"),
    ("no_email", "No email address"),
    ("activity", "Task created"),
    ("excluded", "Excluded from dunning"),
    ("included", "Included in dunning"),
    ("error", "Error"),
    ("note", "Note"),
    ("call", "Call logged"),
    ("letter", "Letter"),
    ("segment", "Segment changed"),
    ("credit_review", "Credit review"),
    ("collector", "Collector assigned"),
]


class DunningEvent(models.Model):
    """One line of the audit trail. Written by the engine and by users' actions, never edited."""

    _name = "dunning.event"
    _description = "Dunning Event"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "event_type"

    date = fields.Date(required=True, index=True, default=fields.Date.context_today, readonly=True)
    event_type = fields.Selection(EVENT_TYPES, string="Type", required=True, readonly=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
        check_company=True,
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    level_id = fields.Many2one(
        "dunning.level", string="Stage", ondelete="restrict", readonly=True, index=True
    )
    message_id = fields.Many2one(
        "dunning.message",
        ondelete="set null",
        readonly=True,
        index="btree_not_null",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_residual = fields.Monetary(
        string="Amount Due", currency_field="currency_id", readonly=True
    )
    days_overdue = fields.Integer(readonly=True)
    user_id = fields.Many2one(
        "res.users", string="By", readonly=True, default=lambda self: self.env.user
    )
    note = fields.Text(readonly=True)

    # A stage is entered once per invoice: the data itself makes a second run a no-op.
    _stage_once = models.UniqueIndex(
        "(move_id, level_id) WHERE event_type = 'stage'",
        "This invoice has already reached this dunning stage.",
    )

    @api.depends("event_type", "level_id", "move_id")
    def _compute_display_name(self):
        labels = dict(self._fields["event_type"]._description_selection(self.env))
        for event in self:
            parts = [labels.get(event.event_type, "")]
            if event.level_id:
                parts.append(event.level_id.name)
            if event.move_id:
                parts.append(event.move_id.name)
            event.display_name = " · ".join(p for p in parts if p)
