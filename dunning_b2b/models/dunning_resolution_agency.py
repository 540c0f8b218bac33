from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command

from .dunning_promise import dunning_today

AGENCY_TYPES = ("agency", "legal")


class DunningResolution(models.Model):
    """Agency and legal cases: the case is handed to a collection agency or a law firm, whose
    commission rate is copied when the case opens. Payments that reach the case's lines while
    it is open are collected through the firm: the commission on what each payment recovered
    is posted (a vendor bill to the firm or a journal entry, on the company's commission
    expense account), once per payment, and added to the case's cost (issue 14, agency)."""

    _inherit = "dunning.resolution"

    agency_id = fields.Many2one(
        "res.partner",
        string="Agency / Law Firm",
        tracking=True,
        index="btree_not_null",
        domain=[("is_company", "=", True)],
        help="The collection agency or law firm the case is handed to (agency and legal "
        "cases). Its commission rate is copied when the case is opened.",
    )
    commission_rate = fields.Float(
        string="Commission (%)",
        digits=(5, 2),
        readonly=True,
        copy=False,
        tracking=True,
        help="The firm's commission on what it recovers, copied from the firm when the case "
        "was opened.",
    )
    commission_baseline = fields.Json(
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="What each payment had already paid on the lines when the case was opened "
        "(payment line id -> amount in company currency): not recovered by the firm.",
    )
    commission_ids = fields.One2many(
        "dunning.resolution.commission", "resolution_id", string="Commissions", readonly=True
    )

    @api.constrains("commission_rate")
    def _check_commission_rate(self):
        for case in self:
            if not 0 <= case.commission_rate <= 100:
                raise ValidationError(
                    self.env._(
                        "Commission (%%): %(rate)s is not a percentage. Set a rate from 0 to "
                        "100 on the agency or law firm.",
                        rate=case.commission_rate,
                    )
                )

    def _get_guarded_fields(self):
        guarded = super()._get_guarded_fields()
        use = self.env._("Use the case's buttons (Open, Close, Cancel).")
        guarded.update(dict.fromkeys(("commission_rate", "commission_baseline"), use))
        return guarded

    def write(self, vals):
        if "agency_id" in vals and not self.env.su and self.filtered(lambda c: c.state != "draft"):
            raise UserError(
                self.env._(
                    "Agency / Law Firm: the firm of a case is fixed once it is opened. Cancel "
                    "the case and open another."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------ opening
    def action_open(self):
        """Agency and legal cases need their firm, and the company's commission settings
        when the firm takes a commission; the rate is copied from the firm."""
        self._check_manager()
        for case in self.filtered(lambda c: c.resolution_type in AGENCY_TYPES):
            case._check_agency_ready()
        result = super().action_open()
        for case in self.filtered(lambda c: c.resolution_type in AGENCY_TYPES):
            rate = case.agency_id.with_company(case.company_id).dunning_commission_rate
            # sudo: the rate and the baseline are set by the system (guarded fields)
            case.sudo().write(
                {"commission_rate": rate, "commission_baseline": case._get_recovered_by_payment()}
            )
        return result

    def _check_agency_ready(self):
        """Refuse to open (nothing written) an agency or legal case that could not post its
        commission: no firm, a rate out of range, no expense account, journal or payable."""
        self.ensure_one()
        company = self.company_id
        firm = self.agency_id
        if not firm:
            raise UserError(
                self.env._(
                    "Agency / Law Firm: choose the collection agency or law firm the case is "
                    "handed to, then open the case."
                )
            )
        rate = firm.with_company(company).dunning_commission_rate
        if not 0 <= rate <= 100:
            raise ValidationError(
                self.env._(
                    "Collection Commission (%%) of %(firm)s: %(rate)s is not a percentage. "
                    "Enter a rate from 0 to 100 on the firm.",
                    firm=firm.display_name,
                    rate=rate,
                )
            )
        if not rate:
            return
        where = self.env._("Invoicing > Configuration > Settings > Collections")
        if not company.dunning_commission_account_id:
            raise UserError(
                self.env._(
                    "Agency Commission Expense Account: set it in %(where)s for %(company)s, "
                    "then open the case.",
                    where=where,
                    company=company.name,
                )
            )
        if not company._dunning_commission_journal():
            raise UserError(
                self.env._(
                    "Agency Commission Journal: %(company)s has no journal to post the "
                    "commission in. Choose one in %(where)s.",
                    company=company.name,
                    where=where,
                )
            )
        payable = firm.with_company(company).property_account_payable_id
        if company.dunning_commission_posting == "entry" and not payable:
            raise UserError(
                self.env._(
                    "Account Payable of %(firm)s: set it on the firm (Accounting tab), then "
                    "open the case.",
                    firm=firm.display_name,
                )
            )

    # ------------------------------------------------------------------ closing
    def action_done(self):
        """Before closing: the commission on payments not yet commissioned is posted, so
        that the case's cost is complete."""
        self._check_manager()
        self.filtered(lambda c: c.state == "open")._post_commissions()
        return super().action_done()

    # ------------------------------------------------------------------ commission
    def _get_recovered_by_payment(self):
        """What each payment (or bank statement line) paid on the case's lines so far:
        payment line id (str) -> amount in company currency. Credit notes and write-offs
        recover nothing through the firm."""
        self.ensure_one()
        recovered = {}
        # sudo: the matching of the case's own lines, in its company
        lines = self.sudo().line_ids
        for partial in lines.matched_credit_ids | lines.matched_debit_ids:
            other = (
                partial.credit_move_id if partial.debit_move_id in lines else partial.debit_move_id
            )
            if other in lines or not (
                other.move_id.origin_payment_id or other.move_id.statement_line_id
            ):
                continue
            key = str(other.id)
            recovered[key] = recovered.get(key, 0.0) + partial.amount
        return recovered

    def _post_commissions(self, raise_errors=True):
        """Post the commission on what each payment recovered on the lines of these open
        agency and legal cases since it was last commissioned (or since the case opened).
        Idempotent: a payment already commissioned posts nothing again. Runs as the system
        for whoever registered the payment. Without ``raise_errors`` (a payment being
        matched), a commission that cannot be posted leaves a note on the case instead of
        refusing the payment; closing the case posts it or says why not."""
        # sudo: commissions are posted by the system for the case's own company
        for case in self.sudo().filtered(
            lambda c: c.state == "open" and c.resolution_type in AGENCY_TYPES and c.agency_id
        ):
            if not case.commission_rate:
                continue
            if raise_errors:
                case._post_case_commissions()
                continue
            try:
                with self.env.cr.savepoint():
                    case._post_case_commissions()
            except UserError as error:
                case._message_log(
                    body=self.env._(
                        "Commission of %(firm)s not posted: %(error)s Closing the case posts it.",
                        firm=case.agency_id.display_name,
                        error=error.args[0],
                    )
                )

    def _post_case_commissions(self):
        """The commissions of one open case (as the system) not posted yet."""
        self.ensure_one()
        case = self
        today = dunning_today(self.env)
        # sudo: commissions are written by the system only, in the case's own company
        Commission = self.env["dunning.resolution.commission"].sudo()
        currency = case.currency_id
        baseline = case.commission_baseline or {}
        done = {}
        for commission in case.commission_ids:
            key = str(commission.payment_line_id.id)
            done[key] = done.get(key, 0.0) + commission.amount_base
        # What the firm recovered in all, less what was already commissioned: a payment
        # unmatched and matched again, or replaced by another, is commissioned once
        # (review finding: per payment, an unmatched payment's commission stayed).
        recovered = case._get_recovered_by_payment()
        net = {key: amount - baseline.get(key, 0.0) for key, amount in recovered.items()}
        base = currency.round(sum(max(amount, 0.0) for amount in net.values()) - sum(done.values()))
        new = []
        commission = currency.round(base * case.commission_rate / 100.0) if base > 0 else 0.0
        if net and currency.compare_amounts(base, 0.0) > 0 and not currency.is_zero(commission):
            # The payment the new recovery is booked against: the one with most left
            # uncommissioned.
            key = max(net, key=lambda k: net[k] - done.get(k, 0.0))
            payment_line = case.env["account.move.line"].browse(int(key))
            move = case._post_commission_move(payment_line, base, commission, today)
            new.append(
                {
                    "resolution_id": case.id,
                    "company_id": case.company_id.id,
                    "agency_id": case.agency_id.id,
                    "date": today,
                    "payment_line_id": payment_line.id,
                    "amount_base": base,
                    "rate": case.commission_rate,
                    "amount": commission,
                    "move_id": move.id,
                }
            )
        if not new:
            return
        commissions = Commission.create(new)
        case.write(
            {"amount_cost": currency.round(case.amount_cost + sum(c["amount"] for c in new))}
        )
        case._log_step(
            "commission",
            lambda c, commissions=commissions: self.env._(
                "Commission of %(firm)s posted: %(rate)s %% of %(base)s recovered = "
                "%(amount)s (%(moves)s).",
                firm=c.agency_id.display_name,
                rate=c._commission_rate_text(),
                base=c.currency_id.format(sum(commissions.mapped("amount_base"))),
                amount=c.currency_id.format(sum(commissions.mapped("amount"))),
                moves=", ".join(commissions.move_id.mapped("name")),
            ),
        )

    def _commission_rate_text(self):
        """The case's rate as people write it: 25, 12.5."""
        return format(self.commission_rate, "g")

    def _post_commission_move(self, payment_line, base, commission, date):
        """The posted vendor bill or journal entry of one commission, in company currency."""
        self.ensure_one()
        company = self.company_id
        firm = self.agency_id.with_company(company)
        account = company.dunning_commission_account_id
        journal = company._dunning_commission_journal()
        if not account or not journal:
            raise UserError(
                self.env._(
                    "Agency Commission Expense Account and Journal: set them in Invoicing > "
                    "Configuration > Settings > Collections for %(company)s.",
                    company=company.name,
                )
            )
        label = self.env._(
            "Collection commission %(rate)s %% on %(base)s recovered from %(customer)s "
            "(%(payment)s)",
            rate=self._commission_rate_text(),
            base=self.currency_id.format(base),
            customer=self.partner_id.display_name,
            payment=payment_line.move_id.name,
        )
        # A clean context: posted from inside a reconciliation (payment register, bank
        # matching), whose flags (skip_invoice_sync...) would leave the bill unbalanced.
        context = {key: self.env.context[key] for key in ("lang", "tz") if key in self.env.context}
        Move = self.env(context=context)["account.move"].with_company(company)
        if company.dunning_commission_posting == "bill":
            vals = {
                "move_type": "in_invoice",
                "partner_id": firm.id,
                "journal_id": journal.id,
                "invoice_date": date,
                "date": date,
                "currency_id": company.currency_id.id,
                "ref": self.name,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": label,
                            "account_id": account.id,
                            "quantity": 1,
                            "price_unit": commission,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        else:
            vals = {
                "move_type": "entry",
                "journal_id": journal.id,
                "date": date,
                "ref": self.name,
                "line_ids": [
                    Command.create(
                        {"name": label, "account_id": account.id, "partner_id": firm.id,
                         "debit": commission, "credit": 0.0}
                    ),
                    Command.create(
                        {"name": label, "account_id": firm.property_account_payable_id.id,
                         "partner_id": firm.id, "debit": 0.0, "credit": commission}
                    ),
                ],
            }  # fmt: skip
        move = Move.create(vals)
        move.action_post()
        return move
