from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL, format_datetime

ANSWER_TYPES = [
    ("paid", "Paid"),
    ("promised", "Promised"),
    ("disputed", "Disputed"),
    ("replied", "Replied"),
]


class DunningMessage(models.Model):
    """Tracked communications: when a reminder was delivered (the mail queue sent it), when
    its link was first opened (and how often), when and how the customer answered it (paid,
    promised, disputed, replied). Written by the system only."""

    _inherit = "dunning.message"

    # The gateway and the mail queue find a reminder by its email.
    mail_message_id = fields.Many2one(index="btree_not_null")
    date_delivered = fields.Datetime(
        string="Delivered",
        readonly=True,
        copy=False,
        help="When the mail server accepted the email for at least one recipient.",
    )
    date_opened = fields.Datetime(
        string="Opened",
        readonly=True,
        copy=False,
        help="When the customer first opened the link of the reminder.",
    )
    open_count = fields.Integer(string="Opens", readonly=True, copy=False)
    date_answered = fields.Datetime(
        string="Answered",
        readonly=True,
        copy=False,
        help="When the customer first answered the reminder after it was sent: paid one of "
        "its lines, promised to pay, disputed one of its invoices or replied to the email.",
    )
    answer_type = fields.Selection(ANSWER_TYPES, string="Answer", readonly=True, copy=False)
    reply_ids = fields.One2many("dunning.reply", "message_id", string="Replies", readonly=True)
    tracking_status = fields.Char(
        string="Tracking",
        compute="_compute_tracking_status",
        help="Delivered, opened and answered, in one line.",
    )

    @api.depends("state", "date_delivered", "date_opened", "open_count", "date_answered")
    @api.depends_context("lang", "tz")
    def _compute_tracking_status(self):
        for message in self:
            message.tracking_status = message._get_tracking_status()

    @api.model
    def _get_guarded_fields(self):
        guarded = super()._get_guarded_fields()
        how = self.env._("it is recorded by the system as the reminder is delivered and answered.")
        for name in ("date_delivered", "date_opened", "open_count", "date_answered", "answer_type"):
            guarded[name] = how
        return guarded

    def _get_tracking_status(self):
        """ "Delivered … · Opened … (n times) · Paid …", what is known of the reminder's fate."""
        self.ensure_one()
        if self.state != "queued":
            return ""
        labels = dict(self._fields["answer_type"]._description_selection(self.env))
        parts = []
        if self.date_delivered:
            parts.append(
                self.env._(
                    "Delivered %(date)s", date=format_datetime(self.env, self.date_delivered)
                )
            )
        elif self.delivery_state == "failed":
            parts.append(self.env._("Not delivered"))
        else:
            parts.append(self.env._("Not delivered yet"))
        if self.date_opened:
            parts.append(
                self.env._(
                    "Opened %(date)s (%(count)s×)",
                    date=format_datetime(self.env, self.date_opened),
                    count=self.open_count,
                )
            )
        if self.date_answered:
            parts.append(
                self.env._(
                    "%(answer)s %(date)s",
                    answer=labels.get(self.answer_type, ""),
                    date=format_datetime(self.env, self.date_answered),
                )
            )
        return " · ".join(parts)

    def _dunning_mark_delivered(self, when=None):
        """The mail queue sent the email of these messages: the first delivery is kept."""
        todo = self.filtered(lambda message: not message.date_delivered)
        if todo:
            # sudo: recorded by the system, whoever processes the mail queue
            todo.sudo().date_delivered = when or fields.Datetime.now()

    def _dunning_mark_opened(self):
        """The customer opened the link of these messages (the buyer's page, whoever shows
        it, the public user included): the first opening is kept, the openings counted.
        One UPDATE, so concurrent openings all count and no right of the caller is needed."""
        if not self.ids:
            return
        self.flush_recordset(["date_opened", "open_count"])
        self.env.cr.execute(
            SQL(
                """UPDATE dunning_message
                      SET date_opened = COALESCE(date_opened, now() at time zone 'UTC'),
                          open_count = COALESCE(open_count, 0) + 1
                    WHERE id IN %s AND state = 'queued'""",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["date_opened", "open_count", "tracking_status"])

    @api.model
    def _dunning_mark_answered(self, partner, company, answer_type, when, lines=None):
        """The customers ``partner`` answered, in ``company``, on ``when``: their reminders
        sent on or before that day and not answered yet are answered by ``answer_type``.

        :param partner: res.partner (customers; several at once)
        :param company: res.company (one or several)
        :param answer_type: "paid", "promised", "disputed" or "replied"
        :param when: datetime of the answer
        :param lines: account.move.line: only the reminders listing one of these lines (or,
            for reminders recorded before their lines, one of their invoices)
        :return: the reminders marked answered
        """
        when = fields.Datetime.to_datetime(when) or fields.Datetime.now()
        domain = (
            Domain("partner_id", "in", partner.commercial_partner_id.ids)
            & Domain("company_id", "in", company.ids)
            & Domain("state", "=", "queued")
            & Domain("date_answered", "=", False)
            & Domain("date", "<=", when.date())
        )
        if lines is not None:
            domain &= Domain("line_ids", "in", lines.ids) | (
                Domain("line_ids", "=", False) & Domain("move_ids", "in", lines.move_id.ids)
            )
        # sudo: the system records the answer, on these customers' reminders of ``company``
        messages = self.sudo().search(domain)
        if messages:
            messages.write({"date_answered": when, "answer_type": answer_type})
        return messages

    @api.model
    def _dunning_mark_answered_by(self, records, answer_type):
        """Promises (``promised``) or disputes (``disputed``, on the reminders listing the
        disputed invoice) just recorded, by any channel, answer their customers' reminders."""
        now = fields.Datetime.now()
        for record in records:
            lines = record.move_id.line_ids if "move_id" in record._fields else None
            self._dunning_mark_answered(
                record.partner_id, record.company_id, answer_type, now, lines=lines
            )

    @api.model
    def _dunning_mark_paid(self, lines):
        """Receivable lines matched with a payment or a bank statement line (the register
        payment, the portal's online payment, a statement): the reminders that listed them
        are answered by a payment."""
        paying = lines.filtered(
            lambda line: (
                line.move_id.origin_payment_id or line.move_id.statement_line_id or line.payment_id
            )
        )
        receivable = lines.filtered(
            lambda line: line.account_type == "asset_receivable" and line.balance > 0
        )
        if paying and receivable:
            self._dunning_mark_answered(
                receivable.partner_id,
                receivable.company_id,
                "paid",
                fields.Datetime.now(),
                lines=receivable,
            )

    @api.model
    def _get_last_sent(self, company_ids, partner_ids):
        """The last reminder sent to each customer in each company.

        :return: dict (partner id, company id) -> dunning.message
        """
        if not company_ids or not partner_ids:
            return {}
        self.flush_model(["partner_id", "company_id", "state", "date"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (partner_id, company_id) partner_id, company_id, id
                     FROM dunning_message
                    WHERE state = 'queued' AND company_id = ANY(%s) AND partner_id = ANY(%s)
                 ORDER BY partner_id, company_id, date DESC, id DESC""",
                list(company_ids),
                list(partner_ids),
            )
        )
        messages = self.browse([row[2] for row in rows])
        # Only what the reader may read (record rules: their companies).
        readable = set(messages._filtered_access("read").ids) if not self.env.su else None
        return {
            (partner_id, company_id): self.browse(message_id)
            for partner_id, company_id, message_id in rows
            if readable is None or message_id in readable
        }
