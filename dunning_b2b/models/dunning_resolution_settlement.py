from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .dunning_promise import dunning_today


class DunningResolution(models.Model):
    """A negotiated settlement: a manager accepts less than what is open, to be paid by a
    date. Once the payments on the case's lines reach the agreed amount, the rest is written
    off (one entry to the bad debt account) and the case is done; unpaid at its date, the
    case goes back to its manager and the ladder resumes for its lines."""

    _inherit = "dunning.resolution"

    settlement_currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_settlement_currency_id",
        store=True,
        help="The currency of the case's invoices when they share one, else the company's: "
        "the settlement is agreed and paid in it.",
    )
    settlement_open = fields.Monetary(
        string="Open (Settlement Currency)",
        compute="_compute_settlement_open",
        currency_field="settlement_currency_id",
        help="What the lines owe now, in the settlement's currency.",
    )
    settlement_amount = fields.Monetary(
        string="Agreed Amount",
        tracking=True,
        copy=False,
        currency_field="settlement_currency_id",
        help="What the customer pays to settle the case (in the invoices' currency), less "
        "than what is open; the rest is written off once it is paid.",
    )
    settlement_date = fields.Date(
        string="To Be Paid By",
        tracking=True,
        copy=False,
        help="Unpaid by this date, the case goes back to its manager and the reminders resume.",
    )
    settlement_state = fields.Selection(
        [("agreed", "Agreed"), ("paid", "Paid"), ("unpaid", "Unpaid")],
        string="Settlement",
        readonly=True,
        copy=False,
        tracking=True,
    )
    settlement_base = fields.Monetary(
        string="Open When Agreed",
        currency_field="settlement_currency_id",
        readonly=True,
        copy=False,
        help="What the lines owed when the settlement was agreed: payments since count "
        "towards the agreed amount.",
    )
    settlement_paid = fields.Monetary(
        string="Paid Towards Settlement",
        currency_field="settlement_currency_id",
        compute="_compute_settlement_paid",
        help="What the lines were paid since the settlement was agreed (settlement currency).",
    )

    @api.depends("line_ids.currency_id", "company_id")
    def _compute_settlement_currency_id(self):
        for case in self:
            currencies = case.line_ids.currency_id
            case.settlement_currency_id = (
                currencies if len(currencies) == 1 else case.company_id.currency_id
            )

    @api.depends("line_ids.amount_residual", "line_ids.amount_residual_currency")
    def _compute_settlement_open(self):
        # In the invoices' own currency: what a customer paying in that currency settles,
        # whatever the day's rate (review finding: measured at booked rates in the company's
        # currency, paying the agreed amount could leave it "unpaid").
        for case in self:
            if case.settlement_currency_id == case.company_id.currency_id:
                case.settlement_open = case.amount_open
            else:
                case.settlement_open = sum(case.line_ids.mapped("amount_residual_currency"))

    @api.depends("settlement_base", "settlement_open", "settlement_state")
    def _compute_settlement_paid(self):
        for case in self:
            currency = case.settlement_currency_id
            if case.settlement_state == "agreed":
                case.settlement_paid = max(
                    currency.round(case.settlement_base - case.settlement_open), 0.0
                )
            else:
                case.settlement_paid = 0.0

    def _settlement_remainder_company(self):
        """What the settlement writes off, in the company's currency (for the threshold)."""
        self.ensure_one()
        remainder = self.settlement_currency_id.round(self.settlement_open - self.settlement_amount)
        return self.settlement_currency_id._convert(
            remainder, self.company_id.currency_id, self.company_id, dunning_today(self.env)
        )

    @api.constrains("settlement_amount")
    def _check_settlement_amount(self):
        for case in self:
            if (
                case.settlement_amount
                and case.settlement_currency_id.compare_amounts(case.settlement_amount, 0.0) < 0
            ):
                raise ValidationError(
                    self.env._("Agreed Amount: enter a positive amount the customer pays.")
                )

    def _get_guarded_fields(self):
        guarded = super()._get_guarded_fields()
        how = self.env._("Use Accept Settlement on the case.")
        guarded.update(dict.fromkeys(("settlement_state", "settlement_base"), how))
        return guarded

    def write(self, vals):
        if {"settlement_amount", "settlement_date"} & set(vals) and not self.env.su:
            agreed = self.filtered(lambda c: c.settlement_state == "agreed")
            for name in ("settlement_amount", "settlement_date"):
                if name in vals and agreed.filtered(
                    lambda c, n=name: c._fields[n].convert_to_cache(vals[n], c) != c[n]
                ):
                    raise UserError(
                        self.env._(
                            "%(field)s: the settlement of %(case)s is agreed; it changes only "
                            "if it goes unpaid (the case then comes back to decide).",
                            field=self._fields[name].string,
                            case=agreed[0].name,
                        )
                    )
        return super().write(vals)

    # ------------------------------------------------------------------ actions
    def action_accept_settlement(self):
        """The manager accepts the agreed amount and date: the case is in progress, its
        lines get no reminders, and paying the amount settles it."""
        self._check_manager()
        today = dunning_today(self.env)
        for case in self:
            case._check_settlement_terms(today)
        self._check_write_off_setup()
        to_approve = self.filtered(lambda c: c._settlement_needs_approval())
        for case in to_approve:
            case._request_settlement_approval()
        (self - to_approve)._agree_settlement()
        return True

    def _settlement_needs_approval(self):
        """A settlement writes off what is open beyond the agreed amount: above the company's
        threshold (with what the customer had written off in the last 12 months), a second
        dunning manager approves it, as for a write-off."""
        self.ensure_one()
        return self._above_write_off_threshold(self._settlement_remainder_company())

    def _request_settlement_approval(self):
        remainder = self._settlement_remainder_company()
        reason = self.env._(
            "Settlement of %(amount)s by %(date)s for %(open)s open",
            amount=self.settlement_currency_id.format(self.settlement_amount),
            date=fields.Date.to_string(self.settlement_date),
            open=self.settlement_currency_id.format(self.settlement_open),
        )
        if self.state == "draft":
            self.action_open()
        # sudo: the request is recorded by the system (guarded fields)
        self.sudo().write(
            {
                "approval_state": "requested",
                "approval_requested_by_id": self.env.uid,
                "approval_amount": remainder,
                "approval_reason": reason,
                "approved_by_id": False,
            }
        )
        self._schedule_approval(remainder)
        self._log_step(
            "write_off_requested",
            lambda c: self.env._(
                "%(reason)s asked by %(user)s: %(amount)s would be written off, above the "
                "approval threshold; a second dunning manager approves it.",
                reason=reason,
                user=self.env.user.name,
                amount=c.currency_id.format(remainder),
            ),
        )

    def _agree_settlement(self):
        """Agree the settlements of ``self`` (checked, and approved where needed)."""
        if not self:
            return
        today = dunning_today(self.env)
        for case in self.filtered(lambda c: c.state == "draft"):
            case.action_open()
        for case in self:
            # sudo: the settlement's state and base are set by the system (guarded fields)
            case.sudo().write(
                {"settlement_state": "agreed", "settlement_base": case.settlement_open}
            )
        self._log_step(
            "settlement",
            lambda c: self.env._(
                "Settlement agreed by %(user)s: %(amount)s by %(date)s for %(open)s open; "
                "the rest is written off once it is paid.",
                user=self.env.user.name,
                amount=c.settlement_currency_id.format(c.settlement_amount),
                date=fields.Date.to_string(c.settlement_date),
                open=c.settlement_currency_id.format(c.settlement_base),
            ),
        )
        # Paid already (a payment before the click): settled at once.
        self._check_settlement_cases(today)

    def _check_settlement_terms(self, today):
        """Refuse, naming the field, a settlement that cannot be agreed."""
        self.ensure_one()
        if self.resolution_type != "settlement":
            raise UserError(
                self.env._(
                    "Resolution: choose Negotiated settlement to accept a settlement on %s.",
                    self.name,
                )
            )
        if self.approval_state == "requested":
            raise UserError(
                self.env._(
                    "Accept Settlement: the settlement of %s waits for a second dunning "
                    "manager's approval.",
                    self.name,
                )
            )
        if self.state not in ("draft", "open") or self.settlement_state == "agreed":
            raise UserError(
                self.env._("Accept Settlement: %s has no settlement to agree.", self.name)
            )
        currency = self.settlement_currency_id
        if currency.compare_amounts(self.settlement_amount, 0.0) <= 0:
            raise ValidationError(
                self.env._("Agreed Amount: enter the amount the customer pays, more than zero.")
            )
        if currency.compare_amounts(self.settlement_amount, self.settlement_open) > 0:
            raise ValidationError(
                self.env._(
                    "Agreed Amount: %(amount)s is more than what is open (%(open)s). A "
                    "settlement accepts less than what is owed.",
                    amount=currency.format(self.settlement_amount),
                    open=currency.format(self.settlement_open),
                )
            )
        if not self.settlement_date or self.settlement_date < today:
            raise ValidationError(
                self.env._(
                    "To Be Paid By: choose a date from today (%(today)s) on.",
                    today=fields.Date.to_string(today),
                )
            )

    # ------------------------------------------------------------------ checks
    @api.model
    def _check_settlements(self, company, run_date, user, stats, partners=None):
        """Daily step (and at a payment, for the paying customers): settle the agreed
        settlements that were paid, send back to their managers those unpaid at their
        date."""
        if self.env.context.get("dunning_writing_off"):
            return  # the write-off's own reconciliation
        domain = [
            ("company_id", "=", company.id),
            ("state", "=", "open"),
            ("resolution_type", "=", "settlement"),
            ("settlement_state", "=", "agreed"),
        ]
        if partners is not None:
            domain.append(("partner_id", "in", partners.commercial_partner_id.ids))
        cases = self.search(domain)
        settled, unpaid = cases._check_settlement_cases(run_date)
        for key, found in (("settlements_paid", settled), ("settlements_unpaid", unpaid)):
            if found:
                stats[key] = stats.get(key, 0) + len(found)

    def _check_settlement_cases(self, run_date):
        """Settle those of ``self`` that were paid, reopen those past their date.

        :return: (settled cases, reopened cases)
        """
        settled, unpaid = self.browse(), self.browse()
        for case in self:
            currency = case.settlement_currency_id
            case._apply_open_credits()
            if case.settlement_state != "agreed":
                continue  # settled while its credits were applied
            if currency.compare_amounts(case.settlement_paid, case.settlement_amount) >= 0:
                case._settle()
                settled |= case
            elif case.settlement_date and case.settlement_date < run_date:
                case._reopen_unpaid()
                unpaid |= case
        return settled, unpaid

    def _apply_open_credits(self):
        """What the customer paid beyond one of the case's lines (a payment larger than its
        invoice) counts towards the settlement: the customer's open credits in the case's
        company are matched with the case's other open lines before the agreed amount is
        compared (review finding: an overpayment left the case "unpaid")."""
        self.ensure_one()
        lines = self._get_open_lines()
        if (
            not lines
            or self.settlement_currency_id.compare_amounts(
                self.settlement_paid, self.settlement_amount
            )
            >= 0
        ):
            return
        # sudo: the customer's own receivable credits in the case's company
        credits = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("partner_id", "child_of", self.partner_id.id),
                    ("account_id", "in", lines.account_id.ids),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("balance", "<", 0),
                    ("date", ">=", self.date_open or fields.Date.today()),
                ]
            )
        )
        if not credits:
            return
        (credits + lines).reconcile()
        self.invalidate_recordset(["amount_open", "settlement_open", "settlement_paid"])

    def _settle(self):
        """The agreed amount is paid: what is still open is written off."""
        self.ensure_one()
        paid = self.settlement_paid
        # sudo: the settlement's state is set by the system (guarded field)
        self.sudo().write({"settlement_state": "paid"})
        reason = self.env._(
            "settlement of %(amount)s paid (%(paid)s)",
            amount=self.settlement_currency_id.format(self.settlement_amount),
            paid=self.settlement_currency_id.format(paid),
        )
        if self._get_open_lines():
            self._do_write_off(reason)
        else:  # paid in full: nothing to write off
            self.action_done()

    def _reopen_unpaid(self):
        """Unpaid at its date: back to decide for the manager, and the ladder resumes."""
        self.ensure_one()
        paid = self.settlement_paid
        # sudo: the state is set by the system (guarded fields)
        self.sudo().write({"state": "draft", "settlement_state": "unpaid", "date_open": False})
        self._log_step(
            "settlement_unpaid",
            lambda c: self.env._(
                "Settlement of %(amount)s unpaid by %(date)s (%(paid)s paid): the case is back "
                "to decide and the reminders resume for its lines.",
                amount=c.settlement_currency_id.format(c.settlement_amount),
                date=fields.Date.to_string(c.settlement_date),
                paid=c.settlement_currency_id.format(paid),
            ),
        )
        self.activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_todo",
            date_deadline=dunning_today(self.env),
            summary=self.env._("Settlement unpaid: decide the case"),
            note=self.env._(
                "The customer did not pay the agreed settlement by its date. Agree a new one, "
                "choose another resolution, or cancel the case."
            ),
            user_id=(self.owner_id or self.env.user).id,
        )
        self.env["dunning.engine"]._reevaluate(self)
