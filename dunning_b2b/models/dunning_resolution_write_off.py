from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .dunning_promise import dunning_today
from .dunning_resolution import OPEN_STATES


class DunningResolution(models.Model):
    """Writing off a case's lines: one posted entry to the company's bad debt account,
    reconciled with the lines; above the company's threshold a second dunning manager
    approves first. A write-off (also what a settlement leaves unpaid) closes the case, holds
    the customer ("written off", credit limit zero) and feeds the outcome back into its risk
    (``dunning_resolution_feedback.py``)."""

    _inherit = "dunning.resolution"

    write_off_move_id = fields.Many2one(
        "account.move", string="Write-off Entry", readonly=True, copy=False, check_company=True
    )
    approval_state = fields.Selection(
        [("requested", "To Approve"), ("approved", "Approved"), ("refused", "Refused")],
        string="Write-off Approval",
        readonly=True,
        copy=False,
        tracking=True,
    )
    approval_requested_by_id = fields.Many2one(
        "res.users", string="Write-off Asked By", readonly=True, copy=False
    )
    approval_amount = fields.Monetary(string="Write-off Asked", readonly=True, copy=False)
    approval_reason = fields.Text(string="Write-off Reason", readonly=True, copy=False)
    approved_by_id = fields.Many2one(
        "res.users", string="Write-off Decided By", readonly=True, copy=False
    )

    def _get_guarded_fields(self):
        guarded = super()._get_guarded_fields()
        how = self.env._("Use Write Off, Approve Write-off or Refuse Write-off on the case.")
        guarded.update(
            dict.fromkeys(
                ("write_off_move_id", "approval_state", "approval_requested_by_id",
                 "approval_amount", "approval_reason", "approved_by_id"),
                how,
            )
        )  # fmt: skip
        return guarded

    # ------------------------------------------------------------------ actions
    def action_write_off(self):
        """Open the write-off wizard on this case (a write-off case in progress or to
        decide)."""
        self.ensure_one()
        self._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Write Off"),
            "res_model": "dunning.resolution.write.off",
            "view_mode": "form",
            "target": "new",
            "context": {"default_resolution_id": self.id},
        }

    def action_approve_write_off(self):
        """A second dunning manager approves the write-off asked: it is posted now."""
        self._check_manager()
        for case in self:
            case._check_approval_pending()
            if case.approval_requested_by_id == self.env.user:
                raise UserError(
                    self.env._(
                        "Approve Write-off: you asked for this write-off; another dunning "
                        "manager approves it."
                    )
                )
        for case in self:
            # sudo: the decision is recorded by the system (guarded fields)
            case.sudo().write({"approval_state": "approved", "approved_by_id": self.env.uid})
            case._close_approval_tasks(self.env._("Approved"))
            if case.resolution_type == "settlement":
                case._agree_settlement()
                continue
            case._do_write_off(
                self.env._(
                    "%(reason)s (approved by %(user)s)",
                    reason=case.approval_reason,
                    user=self.env.user.name,
                )
            )
        return True

    def action_refuse_write_off(self):
        """A dunning manager refuses the write-off asked: nothing is posted, the case stays
        in progress."""
        self._check_manager()
        for case in self:
            case._check_approval_pending()
        # sudo: the decision is recorded by the system (guarded fields)
        self.sudo().write({"approval_state": "refused", "approved_by_id": self.env.uid})
        for case in self:
            case._close_approval_tasks(self.env._("Refused"))
        self._log_step(
            "write_off_refused",
            lambda c: self.env._(
                "Write-off of %(amount)s refused by %(user)s.",
                amount=c.currency_id.format(c.approval_amount),
                user=self.env.user.name,
            ),
        )
        return True

    def _above_write_off_threshold(self, amount):
        """Whether writing off ``amount`` needs a second dunning manager: above the
        company's threshold, counting what the customer had written off in the company in
        the last 12 months (a write-off split in parts needs the approval of the whole)."""
        self.ensure_one()
        threshold = self.company_id.dunning_write_off_threshold
        if threshold <= 0:
            return False
        since = dunning_today(self.env) - timedelta(days=365)
        earlier = self.search(
            [
                ("company_id", "=", self.company_id.id),
                ("partner_id", "=", self.partner_id.id),
                ("id", "!=", self.id),
                ("state", "=", "done"),
                ("date_done", ">=", since),
            ]
        )
        total = amount + sum(earlier.mapped("amount_written_off"))
        return self.currency_id.compare_amounts(total, threshold) > 0

    def _check_approval_pending(self):
        self.ensure_one()
        if self.approval_state != "requested" or self.state not in OPEN_STATES:
            raise UserError(
                self.env._("Write-off approval: no write-off to approve on %s.", self.name)
            )

    # ------------------------------------------------------------------ business
    def _check_write_off_setup(self):
        """Refuse, before anything is written, a write-off the company cannot post."""
        for company in self.company_id:
            self._check_company_write_off_setup(company)

    @api.model
    def _check_company_write_off_setup(self, company):
        if not company.dunning_bad_debt_account_id:
            raise UserError(
                self.env._(
                    "Bad Debt Account: set it in Settings > Accounting > Collections for "
                    "%(company)s before writing off. Nothing was posted.",
                    company=company.name,
                )
            )
        if not company._dunning_get_write_off_journal():
            raise UserError(
                self.env._(
                    "Write-off Journal: %(company)s has no miscellaneous journal; choose "
                    "one in Settings > Accounting > Collections. Nothing was posted.",
                    company=company.name,
                )
            )

    def _get_open_lines(self):
        """The case's lines that still owe something."""
        self.ensure_one()
        return self.line_ids.filtered(
            lambda line: (
                line.parent_state == "posted"
                and not line.reconciled
                and not line.company_currency_id.is_zero(line.amount_residual)
                and not (line.currency_id or line.company_currency_id).is_zero(
                    line.amount_residual_currency
                )
            )
        )

    def _request_write_off(self, reason):
        """A manager asks to write off the case's open lines: posted now, or, above the
        company's threshold, left for a second dunning manager's approval."""
        self.ensure_one()
        self._check_manager()
        self._check_write_off_setup()
        if not reason or not reason.strip():
            raise UserError(self.env._("Reason: say why these lines are written off."))
        if self.state not in OPEN_STATES:
            raise UserError(self.env._("Write Off: the case %s is already closed.", self.name))
        lines = self._get_open_lines()
        if not lines:
            raise UserError(
                self.env._("Write Off: the lines of %s owe nothing any more.", self.name)
            )
        if self.approval_state == "requested":
            raise UserError(
                self.env._("Write Off: a write-off of this case already waits for approval.")
            )
        if self.state == "draft":
            self.action_open()
        amount = self.currency_id.round(sum(lines.mapped("amount_residual")))
        threshold = self.company_id.dunning_write_off_threshold
        if self._above_write_off_threshold(amount):
            # sudo: the request is recorded by the system (guarded fields)
            self.sudo().write(
                {
                    "approval_state": "requested",
                    "approval_requested_by_id": self.env.uid,
                    "approval_amount": amount,
                    "approval_reason": reason.strip(),
                    "approved_by_id": False,
                }
            )
            self._schedule_approval(amount)
            self._log_step(
                "write_off_requested",
                lambda c: self.env._(
                    "Write-off of %(amount)s asked by %(user)s (%(reason)s): above %(limit)s, "
                    "a second dunning manager approves it.",
                    amount=c.currency_id.format(amount),
                    user=self.env.user.name,
                    reason=reason.strip(),
                    limit=c.currency_id.format(threshold),
                ),
            )
            return False
        self._do_write_off(reason.strip())
        return True

    def _schedule_approval(self, amount):
        """A task for each other dunning manager of the company."""
        self.ensure_one()
        # sudo: the company's dunning managers (group members), filtered on the company
        deciders = self.env["dunning.credit.hold"].sudo()._get_deciders(self.company_id)
        deciders -= self.env.user
        for user in deciders or self.owner_id:
            self.activity_schedule(
                "dunning_b2b.mail_activity_type_dunning_todo",
                date_deadline=dunning_today(self.env),
                summary=self.env._("Approve the write-off of %s", self.partner_id.name),
                note=self.env._(
                    "%(user)s asks to write off %(amount)s: approve or refuse it on the case.",
                    user=self.env.user.name,
                    amount=self.currency_id.format(amount),
                ),
                user_id=user.id,
            )

    def _close_approval_tasks(self, feedback):
        self.ensure_one()
        activities = self.activity_ids.filtered(
            lambda a: (
                a.activity_type_id == self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
            )
        )
        if activities:
            # sudo: the case's tasks are closed whoever they are assigned to
            activities.sudo().action_feedback(feedback=feedback)

    def _do_write_off(self, reason):
        """Write off the case's open lines now: the entry, the case closed, the customer
        held and its risk updated."""
        self.ensure_one()
        self._check_write_off_setup()
        lines = self._get_open_lines()
        if not lines:
            raise UserError(
                self.env._("Write Off: the lines of %s owe nothing any more.", self.name)
            )
        move = self._post_write_off(lines, reason)
        expense = move.line_ids.filtered(
            lambda line: line.account_id == self.company_id.dunning_bad_debt_account_id
        )
        written = self.currency_id.round(sum(expense.mapped("balance")))
        self._close_written_off(move, written, reason)
        return move

    def _post_write_off(self, lines, label):
        """One posted entry that clears ``lines`` (open receivable lines of the case) against
        the bad debt account, reconciled with them.

        Each line is cleared by its own open amount, in its currency (``amount_currency``)
        and at its booked value in the company's currency (``balance`` = its
        ``amount_residual``): the expense is what the books carry for the receivable, and the
        reconciliation leaves no exchange difference of its own (differences of earlier
        partial payments were booked by Odoo when they were matched). The bad debt side is
        one line per currency.
        """
        self.ensure_one()
        company = self.company_id
        account = company.dunning_bad_debt_account_id
        receivable_vals, expense = [], {}
        for line in lines:
            currency = line.currency_id or company.currency_id
            receivable_vals.append(
                {
                    "name": label,
                    "account_id": line.account_id.id,
                    "partner_id": line.partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": -line.amount_residual_currency,
                    "balance": -line.amount_residual,
                }
            )
            total = expense.setdefault(currency, [0.0, 0.0])
            total[0] += line.amount_residual_currency
            total[1] += line.amount_residual
        expense_vals = [
            {
                "name": self.env._("Bad debt: %s", self.partner_id.name),
                "account_id": account.id,
                "partner_id": self.partner_id.id,
                "currency_id": currency.id,
                "amount_currency": currency.round(amount_currency),
                "balance": company.currency_id.round(balance),
            }
            for currency, (amount_currency, balance) in expense.items()
        ]
        # sudo: the entry is the system's, decided by a dunning manager (rights checked),
        # in the case's company and journal
        Move = self.env["account.move"].sudo().with_company(company)
        move = Move.create(
            {
                "move_type": "entry",
                "journal_id": company._dunning_get_write_off_journal().id,
                "date": dunning_today(self.env),
                "ref": self.env._("Write-off: %s", self.name),
                "line_ids": [
                    fields.Command.create(vals) for vals in receivable_vals + expense_vals
                ],
            }
        )
        move.action_post()
        counterparts = move.line_ids.filtered(lambda line: line.account_id != account).sorted("id")
        # The case's own settlement check must not run again inside this reconciliation.
        for line, counterpart in zip(lines, counterparts[: len(lines)], strict=True):
            # sudo: matching the case's line with its write-off line, in the case's company
            (line | counterpart).sudo().with_context(dunning_writing_off=True).reconcile()
        return move

    def _close_written_off(self, move, written, reason):
        """The case done with what was written off; the customer held and reviewed."""
        self.ensure_one()
        today = dunning_today(self.env)
        total_written = self.currency_id.round(self.amount_written_off + written)
        recovered = self.currency_id.round(
            self.amount_open_start - self.amount_open - total_written
        )
        # sudo: the state and the amounts are set by the system (guarded fields)
        self.sudo().write(
            {
                "state": "done",
                "date_done": today,
                "write_off_move_id": move.id,
                "amount_written_off": total_written,
                "amount_recovered": max(recovered, 0.0),
            }
        )
        self._log_step(
            "write_off",
            lambda c: self.env._(
                "%(amount)s written off to %(account)s (%(entry)s): %(reason)s. Case closed: "
                "%(recovered)s recovered.",
                amount=c.currency_id.format(written),
                account=c.company_id.dunning_bad_debt_account_id.display_name,
                entry=move.name,
                reason=reason,
                recovered=c.currency_id.format(c.amount_recovered),
            ),
        )
        if self.resolution_type == "write_off":
            self._hold_written_off(reason)
        self._feed_back_outcome()
        self.env["dunning.engine"]._reevaluate(self, ladder=False)

    def _hold_written_off(self, reason):
        """The customer on a credit hold marked "written off" and its credit limit zero in
        the case's company."""
        self.ensure_one()
        company = self.company_id
        today = dunning_today(self.env)
        text = self.env._("Written off: %s", reason)
        # sudo: holds of this customer in the case's company, set by the system for the
        # manager's write-off
        Hold = self.env["dunning.credit.hold"].sudo().with_company(company)
        hold = Hold._get_open(self.partner_id, company)[:1]
        if hold:
            hold.write({"origin": "write_off", "reason": text, "level_id": False})
        else:
            hold = Hold.create(
                {
                    "partner_id": self.partner_id.id,
                    "company_id": company.id,
                    "origin": "write_off",
                    "reason": text,
                    "state": "proposed",
                    "date_proposed": today,
                    "user_id": self.env.uid,
                }
            )
        if hold.state == "proposed":
            hold._activate(today, self.env.user)
        else:
            hold._log("hold_set", today, self.env.user, {hold.id: text})
        # sudo: the credit limit of this customer in the case's company (accounting field)
        partner = self.partner_id.sudo().with_company(company)
        # Odoo reads a limit of 0 as "the company's default" (often none): the smallest
        # amount of the currency with the partner's own limit on blocks every order.
        partner.write(
            {"credit_limit": company.currency_id.rounding, "use_partner_credit_limit": True}
        )
        partner._message_log(
            body=Markup("%s")
            % self.env._(
                "Credit limit set to zero in %(company)s after the write-off.",
                company=company.name,
            )
        )

    @api.model
    def _get_write_off_lines_domain(self, partner, company):
        """Open receivable lines of ``partner`` in ``company`` that no open case covers."""
        taken = self.search(
            [("company_id", "=", company.id), ("state", "in", OPEN_STATES),
             ("partner_id", "=", partner.id)]
        ).line_ids  # fmt: skip
        return [
            ("partner_id.commercial_partner_id", "=", partner.id),
            ("company_id", "=", company.id),
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("balance", ">", 0),
            ("id", "not in", taken.ids),
        ]
