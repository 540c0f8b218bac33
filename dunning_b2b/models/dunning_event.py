from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .dunning_promise import dunning_today

# Columns written by _create_bulk, in this order.
BULK_COLUMNS = (
    "date", "event_type", "move_id", "partner_id", "company_id", "level_id", "message_id",
    "currency_id", "amount_residual", "days_overdue", "user_id", "note", "move_line_id",
    "cycle", "resolution_id",
)  # fmt: skip

EVENT_TYPES = [
    ("stage", "Stage reached"),
    ("restart", "Dunning restarted"),
    ("credit_cover", "Covered by open credits"),
    ("email", "Email queued"),
    ("email_draft", "Message to review"),
    ("no_email", "No email address"),
    ("activity", "Task created"),
    ("excluded", "Excluded from dunning"),
    ("included", "Included in dunning"),
    ("error", "Error"),
    ("note", "Note"),
    ("delivery_failed", "Email not delivered"),
    ("call", "Call"),
    ("response", "Response received"),
    ("call_task", "Phone task created"),
    ("promise", "Promise to pay"),
    ("promise_kept", "Promise kept"),
    ("promise_broken", "Promise broken"),
    ("promise_extended", "Promise extended"),
    ("promise_cancelled", "Promise cancelled"),
    ("dispute", "Dispute opened"),
    ("dispute_resolved", "Dispute resolved"),
    ("dispute_rejected", "Dispute rejected"),
    ("dispute_overdue", "Dispute past its deadline"),
    ("hold_proposed", "Credit hold proposed"),
    ("hold_set", "Credit hold set"),
    ("hold_rejected", "Credit hold rejected"),
    ("hold_withdrawn", "Credit hold proposal withdrawn"),
    ("hold_lifted", "Credit hold lifted"),
    ("hold_lift_proposed", "Credit hold lift proposed"),
    ("letter", "Letter"),
    ("segment", "Segment changed"),
    ("credit_review", "Credit review"),
    ("collector", "Collector assigned"),
    ("reply", "Customer replied"),
    ("online_payment", "Paid online"),
    ("link_revoked", "Customer page link revoked"),
    ("resolution", "Final resolution"),
    ("resolution_done", "Final resolution closed"),
    ("resolution_cancelled", "Final resolution cancelled"),
    # Settlement and write-off (issue 14)
    ("settlement", "Settlement agreed"),
    ("settlement_unpaid", "Settlement unpaid"),
    ("write_off_requested", "Write-off to approve"),
    ("write_off_refused", "Write-off refused"),
    ("write_off", "Written off"),
    # provision for doubtful debts (issue 14)
    ("provision", "Doubtful debt provision"),
    # Agency and legal cases (issue 14, agency)
    ("handover", "Hand-over pack"),
    ("commission", "Agency commission posted"),
    # issue 14, late-payment charges
    ("charge", "Late-payment charges invoiced"),
    ("charge_waived", "Late-payment charges waived"),
    ("charge_cancelled", "Late-payment charge released"),
]


class DunningEvent(models.Model):
    """One line of the audit trail. Written by the engine and by users' actions (as the
    system), never created, edited or deleted by a user."""

    _name = "dunning.event"
    _description = "Dunning Event"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "event_type"

    date = fields.Date(
        required=True, index=True, default=lambda self: dunning_today(self.env), readonly=True
    )
    event_type = fields.Selection(EVENT_TYPES, string="Type", required=True, readonly=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        index="btree_not_null",
        # An event outlives the invoice: deleting a draft invoice keeps its trail, with the
        # invoice's number in move_name (filled as the invoice is deleted).
        ondelete="set null",
        readonly=True,
    )
    move_name = fields.Char(
        string="Invoice Number",
        readonly=True,
        help="The number of the invoice the event was about, kept when the invoice is deleted.",
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
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Receivable Line",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The instalment or open item the event is about.",
    )
    cycle = fields.Integer(readonly=True, help="The line's dunning cycle (see Dunning Line).")
    level_id = fields.Many2one(
        "dunning.level", string="Stage", ondelete="restrict", readonly=True, index=True
    )
    message_id = fields.Many2one(
        "dunning.message",
        ondelete="set null",
        readonly=True,
        index="btree_not_null",
    )
    promise_id = fields.Many2one(
        "dunning.promise", ondelete="set null", readonly=True, index="btree_not_null"
    )
    dispute_id = fields.Many2one(
        "dunning.dispute", ondelete="set null", readonly=True, index="btree_not_null"
    )
    resolution_id = fields.Many2one(
        "dunning.resolution", ondelete="set null", readonly=True, index="btree_not_null"
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
    delivery_state = fields.Selection(related="message_id.delivery_state", string="Delivery")

    # A stage is entered once per receivable line and dunning cycle: the data itself makes
    # a second run a no-op, and no line is announced twice at the same stage.
    _line_stage_once = models.UniqueIndex(
        "(move_line_id, level_id, cycle) WHERE event_type = 'stage'",
        "This receivable line has already reached this dunning stage.",
    )

    # One phone task per invoice of a message: a second run does not call again.
    _call_task_once = models.UniqueIndex(
        "(message_id, move_id) WHERE event_type = 'call_task'",
        "A phone task was already created for this invoice and message.",
    )

    def _check_append_only(self):
        """The audit trail is written by the engine and by the actions that change a state
        (as the system); nobody creates, changes or deletes an event by hand or over RPC,
        managers included."""
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Dunning events are the audit trail: they are written by the actions "
                    "(log a call, promise, dispute, hold, send) and cannot be created, "
                    "changed or deleted by hand."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_append_only()
        return super().create(vals_list)

    def write(self, vals):
        self._check_append_only()
        return super().write(vals)

    def unlink(self):
        self._check_append_only()
        return super().unlink()

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

    @api.model
    def _create_bulk(self, vals_list):
        """Insert engine events with one INSERT instead of the ORM's per-row work.

        The engine writes a few events per invoice; on a large ledger the ORM create of this
        plain, append-only table was a large share of a run (bench/README.md). The values are
        built by the engine itself; the unique index on stage entries still applies.
        """
        if not vals_list:
            return
        # False (an empty many2one or text) is NULL; 0 stays 0, as the ORM writes it.
        columns = {
            name: [None if vals.get(name) is False else vals.get(name) for vals in vals_list]
            for name in BULK_COLUMNS
        }
        types = {
            "date": "date", "event_type": "varchar", "note": "text",
            "amount_residual": "numeric",
        }  # fmt: skip
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO dunning_event (%s, create_uid, create_date, write_uid, write_date)
                   SELECT *, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC'
                     FROM unnest(%s)""",
                SQL(", ").join(SQL.identifier(name) for name in BULK_COLUMNS),
                self.env.uid,
                self.env.uid,
                SQL(", ").join(
                    SQL("%s::%s[]", columns[name], SQL(types.get(name, "int")))
                    for name in BULK_COLUMNS
                ),
            )
        )
        self.invalidate_model()
        # The histories of invoices, disputes, promises and cases (their one2many fields)
        for name in BULK_COLUMNS:
            for inverse in self.pool.field_inverses[self._fields[name]]:
                self.env[inverse.model_name].invalidate_model([inverse.name])
