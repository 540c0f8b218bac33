from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..tools import check_collectors, check_dunning_rights
from .dunning_promise import dunning_today
from .res_partner import SEGMENTS


def recompute_date_field():
    """The first day the date changes a row of the daily checks by more than the day (a
    worklist row, a KPI profile): it is computed again that day, shifted by the day before."""
    return fields.Date(
        string="Recheck On",
        readonly=True,
        index=True,
        help="The first day on which the row moves with the date other than by a day more "
        "overdue (an item falling due, a task, promise or contact reaching its date).",
    )


class DunningWorklist(models.Model):
    """One customer in one company, as the daily job last saw it: the figures behind its
    segment, its priority and what to do next.

    Rows are written by the job (``_refresh``, in dunning_worklist_refresh.py, from the
    figures gathered in dunning_worklist_figures.py), never computed on screen, so the
    worklist sorts and filters on stored columns. Every figure is read from the open
    receivable lines (``dunning.line._get_open_items``): each instalment on its own due date,
    open credits of the same currency netted.
    """

    _name = "dunning.worklist"
    _description = "Collections Worklist"
    _order = "needs_action desc, priority desc, id"
    _check_company_auto = True
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    collector_id = fields.Many2one("res.users", index=True, readonly=True)
    segment = fields.Selection(SEGMENTS, readonly=True, index=True)
    segment_pinned = fields.Boolean(readonly=True)
    risk_level = fields.Selection(
        [("low", "Low"), ("medium", "Medium"), ("high", "High")], readonly=True
    )
    risk_reasons = fields.Char(string="Risk Because", readonly=True)
    exposure = fields.Monetary(
        readonly=True, help="Open receivable: invoices less credit notes and unapplied payments."
    )
    overdue_amount = fields.Monetary(
        string="Overdue",
        readonly=True,
        help="Overdue receivable lines (each instalment on its own due date) less the open "
        "credit notes and payments of the same currency.",
    )
    open_count = fields.Integer(
        string="Open Items", readonly=True, help="Open receivable lines: instalments, debit notes."
    )
    max_days_overdue = fields.Integer(string="Oldest (days)", readonly=True)
    level_id = fields.Many2one(
        "dunning.level", string="Stage", readonly=True, index=True, ondelete="set null"
    )
    level_color = fields.Integer(related="level_id.color")
    priority = fields.Float(
        digits=(16, 0),
        readonly=True,
        help="Overdue amount x days overdue x risk weight: each overdue receivable line adds "
        "its open amount (less its share of the open credits) times its days overdue; the sum "
        "is multiplied by the weight of the customer's risk level (Settings > Collections).",
    )
    # What the daily shift (``_shift_rows``) moves by the date alone: on day ``d``, the
    # priority is ``priority_base`` + ``priority_growth`` x (``d`` - ``base_date``) before
    # rounding; the average days late is (``late_amount_days`` + ``late_open_amount`` x
    # (``d`` - ``base_date``)) / ``late_amount``, exact sums of the 12 months' items.
    base_date = fields.Date(string="Growth From", readonly=True)
    priority_base = fields.Float(string="Priority on That Day", readonly=True)
    priority_growth = fields.Float(
        string="Priority Growth per Day",
        readonly=True,
        help="What the priority grows by each day while the same items are overdue.",
    )
    late_amount_days = fields.Float(string="Amount x Days Late", digits=(32, 6), readonly=True)
    late_amount = fields.Float(string="Amount Due (12 months)", digits=(32, 6), readonly=True)
    late_open_amount = fields.Float(string="Amount Open and Late", digits=(32, 6), readonly=True)
    needs_action = fields.Boolean(string="Action Today", readonly=True, index=True)
    next_action = fields.Char(readonly=True)
    next_action_date = fields.Date(readonly=True)
    next_action_today = fields.Boolean(
        string="Next Action Is Today",
        readonly=True,
        help="The next action has no date of its own: it is due on the day of each run.",
    )
    last_contact_date = fields.Date(readonly=True)
    last_contact_type = fields.Char(string="Last Contact", readonly=True)
    last_contact_note = fields.Char(string="Outcome", readonly=True)
    avg_days_late = fields.Float(digits=(16, 1), readonly=True, help="12 months, amount-weighted.")
    on_time_share = fields.Float(string="Paid on Time (%)", digits=(16, 0), readonly=True)
    promise_kept_ratio = fields.Float(
        string="Promises Kept (%)",
        digits=(16, 0),
        readonly=True,
        help="Kept over kept and broken promises of the last 12 months; 0 without any.",
    )
    dispute_count = fields.Integer(string="Disputes (12 months)", readonly=True)
    promise_open = fields.Boolean(string="Open Promise", readonly=True)
    promise_date = fields.Date(string="Promised For", readonly=True)
    dispute_open = fields.Boolean(string="Open Dispute", readonly=True)
    credit_hold = fields.Boolean(string="On Hold", readonly=True)
    excluded = fields.Boolean(
        readonly=True, help="Every open item of the customer is excluded from dunning."
    )
    letter_due = fields.Boolean(
        string="Letter to Print",
        readonly=True,
        help="The customer's stage sends a letter and none was sent or printed yet.",
    )
    credit_review = fields.Boolean(
        readonly=True, help="The customer's payments deteriorated this quarter."
    )
    rank_this_quarter = fields.Integer(
        string="Highest Stage This Quarter",
        readonly=True,
        help="Position in the ladder (1 = first stage) of the highest stage reached; 0: none.",
    )
    rank_last_quarter = fields.Integer(
        string="Highest Stage Last Quarter",
        readonly=True,
        help="Position in the ladder (1 = first stage) of the highest stage reached; 0: none.",
    )
    refresh_date = fields.Date(string="Computed On", readonly=True)
    recompute_date = recompute_date_field()

    _partner_company_uniq = models.Constraint(
        "UNIQUE(partner_id, company_id)",
        "A customer has one worklist row per company.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            self._check_collector_vals(vals, company)
        return super().create(vals_list)

    def write(self, vals):
        for company in self.company_id:
            self._check_collector_vals(vals, company)
        return super().write(vals)

    @api.model
    def _check_collector_vals(self, vals, company):
        """A collector set by a user is an internal user of the row's company. The engine
        mirrors the customer's collector (checked when it was set) as the system."""
        if vals.get("collector_id") and not self.env.su:
            label = self._fields["collector_id"]._description_string(self.env)
            check_collectors(self.env["res.users"].browse(vals["collector_id"]), company, label)

    # ------------------------------------------------------------- actions
    def _check_collector(self):
        check_dunning_rights(self)

    def _notify(self, message, reload=True):
        action = {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": "success", "sticky": False},
        }
        if reload:
            action["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return action

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }

    def _get_open_line_domain(self, debits_only=False):
        """The open receivable lines of the rows' customers in the rows' companies, as a
        domain on ``account.move.line`` (the selector's)."""
        Line = self.env["dunning.line"]
        domain = Domain.OR(
            Line._get_open_line_domain(companies=row.company_id, partners=row.partner_id)
            for row in self
        )
        return domain & Domain("balance", ">", 0) if debits_only else domain

    def action_view_invoices(self):
        """The customer's open items (receivable lines: instalments, debit notes), by stage."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_line_action")
        action["domain"] = [
            ("partner_id", "=", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("is_open", "=", True),
        ]
        action["context"] = {"search_default_group_level": 1}
        return action

    def _get_stage_lines(self, level):
        """The open receivable lines of the row's customer at ``level`` not yet announced at
        that stage (no message of that stage lists them since they reached it)."""
        self.ensure_one()
        states = self.env["dunning.line"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("level_id", "=", level.id),
                ("is_open", "=", True),
                ("move_line_id.balance", ">", 0),
            ]
        )
        messages = self.env["dunning.message"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("level_id", "=", level.id),
                ("state", "!=", "cancel"),
                ("line_ids", "in", states.move_line_id.ids),
            ]
        )
        announced = set()
        for message in messages:
            for state in states.filtered(lambda s, m=message: s.move_line_id in m.line_ids):
                if not state.level_date or message.date >= state.level_date:
                    announced.add(state.id)
        return states.filtered(lambda s: s.id not in announced).move_line_id

    def action_send_stage_message(self):
        """Send each customer the message of its current stage now: the one waiting for
        review if any, else a new one listing its open lines at that stage not announced
        yet."""
        self._check_collector()
        today = dunning_today(self.env)
        # sudo: messages written for the collector, in the rows' companies (rows read as the user)
        Message = self.env["dunning.message"].sudo()
        engine = self.env["dunning.engine"].sudo()
        to_send = Message
        skipped = []
        for row in self.sudo():
            company = row.company_id
            drafts = Message.search(
                [
                    ("partner_id", "=", row.partner_id.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "draft"),
                ]
            )
            if drafts:
                to_send |= drafts
                continue
            level = row.level_id
            lines = row._get_stage_lines(level) if level else self.env["account.move.line"]
            moves = lines.move_id
            recipients = moves and engine._get_recipients(row.partner_id, moves)
            if level.send_email and level.send_to_all_contacts:
                recipients |= engine._get_all_billing_contacts(row.partner_id)
            if not (level.send_email and lines and recipients):
                skipped.append(row.partner_id.display_name)
                continue
            to_send |= Message.create(
                {
                    "date": today,
                    "partner_id": row.partner_id.id,
                    "company_id": company.id,
                    "level_id": level.id,
                    "line_ids": [fields.Command.set(lines.ids)],
                    "move_ids": [fields.Command.set(moves.ids)],
                    "recipient_ids": [fields.Command.set(recipients.ids)],
                    "collector_id": row.collector_id.id,
                }
            )
        sent = to_send._send(user=self.env.user)
        self._refresh_rows()
        text = self.env._("%(count)s message(s) sent.", count=len(sent))
        if skipped:
            text += " " + self.env._(
                "Nothing to send for %(customers)s (no email at this stage, no address, or "
                "already sent).",
                customers=", ".join(skipped),
            )
        return self._notify(text)

    def action_log_call(self):
        self._check_collector()
        if len(self) == 1:
            # One customer: the full call log (promise and dispute forms follow from it).
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Log a Call"),
                "res_model": "dunning.call.log",
                "view_mode": "form",
                "target": "new",
                "context": {
                    "default_partner_id": self.partner_id.id,
                    "default_company_id": self.company_id.id,
                },
            }
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Call"),
            "res_model": "dunning.worklist.call",
            "view_mode": "form",
            "target": "new",
            "context": {"default_worklist_ids": self.ids},
        }

    def action_assign_collector(self):
        self._check_collector()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Assign Collector"),
            "res_model": "dunning.worklist.assign",
            "view_mode": "form",
            "target": "new",
            "context": {"default_worklist_ids": self.ids},
        }

    def _get_open_moves(self):
        """The documents of the rows' open receivable debit lines (credits stay as they are)."""
        if not self:
            return self.env["account.move"]
        lines = self.env["account.move.line"].search(self._get_open_line_domain(debits_only=True))
        return lines.move_id

    def action_exclude(self):
        """Exclude the documents of every open receivable line of the selected customers from
        dunning."""
        self._check_collector()
        self._get_open_moves().action_dunning_exclude()
        self._refresh_rows()
        return self._notify(self.env._("Excluded from dunning."))

    def action_include(self):
        self._check_collector()
        self._get_open_moves().action_dunning_include()
        self._refresh_rows()
        return self._notify(self.env._("Included in dunning again."))

    def _check_letters_company(self):
        """Letters list and log the current company's lines: rows of another company the
        user also works in would get letters of the wrong company."""
        other = self.company_id - self.env.company
        if other:
            raise UserError(
                self.env._(
                    "Print: %(customers)s are rows of %(company)s; letters are printed in the "
                    "current company, %(current)s. Switch to %(company)s, then print.",
                    customers=", ".join(
                        self.filtered(lambda r: r.company_id in other).partner_id.mapped("name")
                    ),
                    company=", ".join(other.mapped("name")),
                    current=self.env.company.name,
                )
            )

    def action_print_letters(self):
        """The letter of each customer's stage (formal notice or demand letter), in one PDF
        to print for the post."""
        self._check_collector()
        self._check_letters_company()
        return self.env.ref("dunning_b2b.action_report_dunning_letter").report_action(
            self.partner_id
        )

    def action_print_statement(self):
        self._check_collector()
        self._check_letters_company()
        return self.env.ref("dunning_b2b.action_report_customer_statement").report_action(
            self.partner_id
        )

    def action_refresh(self):
        """Button "Recompute" of the list (with or without rows selected): recompute the
        current company's worklist now, as the daily job does every day."""
        if not self.env.user.has_group("dunning_b2b.group_dunning_user"):
            raise AccessError(self.env._("Only collections users can refresh the worklist."))
        self.check_access("read")
        company = self.env.company
        # sudo: the rows are the engine's; collector checked, the current company only
        self.sudo().with_company(company)._refresh_daily(
            company, dunning_today(self.env), self.env.user, {}
        )
        return self._notify(self.env._("Worklist recomputed."))

    def _refresh_rows(self):
        """Recompute the rows of ``self`` after a user acted on them."""
        today = dunning_today(self.env)
        for company in self.company_id:
            rows = self.filtered(lambda r, c=company: r.company_id == c)
            # sudo: the rows are the engine's; these rows' customers, in their company
            self.sudo().with_company(company)._refresh(
                company, today, self.env.user, partners=rows.partner_id, checks=False
            )
