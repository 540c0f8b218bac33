from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools import (
    check_collectors,
    check_recorded_create,
    check_recorded_write,
    check_state_create,
    check_state_write,
)
from .dunning_promise import dunning_today

# Outcomes that say the customer was right: what the invoice asked was not (all) due.
FAVOURABLE_OUTCOMES = ("credit_note", "corrected")


class DunningDispute(models.Model):
    """How a dispute ends, and what that does to the customer's credit hold.

    Its state and outcome change through Resolve and Reject only. A dispute resolved in the
    customer's favour releases its invoice from a credit hold only when the invoice was
    credited (a posted credit note reversing it, or a refund reconciled with it) or
    corrected (posted again for less than when the dispute was opened). "Credit note issued"
    without a credit note is refused; a favourable resolution without either leaves the
    hold as it is and asks a dunning manager whether to lift it: lifting a hold stays a
    manager's decision.
    """

    _inherit = "dunning.dispute"

    invoice_amount_opened = fields.Monetary(
        string="Invoiced When Opened",
        compute="_compute_invoice_amount_opened",
        store=True,
        precompute=True,
        readonly=True,
        copy=False,
        help="The invoice's total when the dispute was opened: the invoice posted again for "
        "less is a correction in the customer's favour.",
    )

    @api.depends("move_id")
    def _compute_invoice_amount_opened(self):
        for dispute in self:
            if dispute.state == "open":
                dispute.invoice_amount_opened = dispute.move_id.amount_total

    # ---------------------------------------------------------------- guards
    @api.model
    def _get_guarded_fields(self):
        """The state and the decision: written by Resolve / Reject and the daily run only."""
        how = self.env._("use the Resolve or Reject button.")
        return dict.fromkeys(
            (
                "state",
                "outcome",
                "resolution_note",
                "date_closed",
                "resolution_days",
                "escalation_date",
                "invoice_amount_opened",
            ),
            how,
        )

    @api.model_create_multi
    def create(self, vals_list):
        check_state_create(self, vals_list, self._get_guarded_fields(), {"state": "open"})
        check_recorded_create(
            self, vals_list, {"user_id": self.env.uid, "date_opened": dunning_today(self.env)}
        )
        return super().create(vals_list)

    def write(self, vals):
        check_state_write(self, vals, self._get_guarded_fields())
        check_recorded_write(self, vals, ("user_id", "date_opened"))
        return super().write(vals)

    @api.constrains("owner_id", "company_id")
    def _check_owner_user(self):
        label = self._fields["owner_id"]._description_string(self.env)
        for dispute in self.filtered("owner_id"):
            check_collectors(dispute.owner_id, dispute.company_id, label)

    # ------------------------------------------------------ credit and corrections
    @api.model
    def _get_favourable_outcomes(self):
        """Outcomes that say the customer was right."""
        return FAVOURABLE_OUTCOMES

    def _get_credit_notes(self, states=("posted",)):
        """The credit notes of the disputed invoices: reversals of the invoice, and refunds
        reconciled with it.

        :return: dict dispute id -> ``account.move`` credit notes
        """
        # sudo: the owner may be a salesperson who reads no invoice; only the credit notes
        # of the disputed invoices themselves are read (their own company).
        moves = self.sudo().move_id
        Move = self.env["account.move"].sudo()
        notes = defaultdict(Move.browse)
        for refund in Move.search(
            [
                ("reversed_entry_id", "in", moves.ids),
                ("move_type", "=", "out_refund"),
                ("state", "in", states),
            ]
        ):
            notes[refund.reversed_entry_id.id] |= refund
        # sudo: the reconciliations of the disputed invoices only
        partials = (
            self.env["account.partial.reconcile"]
            .sudo()
            .search(
                [
                    ("debit_move_id.move_id", "in", moves.ids),
                    ("credit_move_id.move_id.move_type", "=", "out_refund"),
                ]
            )
        )
        for partial in partials:
            notes[partial.debit_move_id.move_id.id] |= partial.credit_move_id.move_id
        # sudo: the disputed invoice of each dispute, which its owner may not read
        return {dispute.id: notes[dispute.sudo().move_id.id] for dispute in self}

    def _get_corrected(self):
        """The disputes of ``self`` whose invoice was credited, or posted again for less
        than when the dispute was opened."""
        notes = self._get_credit_notes()
        corrected = self.browse()
        for dispute in self:
            # sudo: the disputed invoice, which the dispute's owner may not read
            move = dispute.sudo().move_id
            smaller = (
                move.state == "posted"
                and dispute.invoice_amount_opened
                and move.currency_id.compare_amounts(
                    move.amount_total, dispute.invoice_amount_opened
                )
                < 0
            )
            if notes[dispute.id] or smaller:
                corrected |= dispute
        return corrected

    def _check_outcome_evidence(self, outcome):
        """ "Credit note issued" needs the credit note: refused, naming what is missing."""
        if outcome != "credit_note":
            return
        posted = self._get_credit_notes()
        drafts = self._get_credit_notes(states=("draft",))
        for dispute in self.filtered(lambda d: not posted[d.id]):
            # sudo: the disputed invoice's number, for the owner's error message
            invoice = dispute.sudo().move_id.name
            if drafts[dispute.id]:
                raise UserError(
                    self.env._(
                        'Outcome: "Credit note issued", but the credit note of %(invoice)s '
                        "(%(notes)s) is still a draft: post it first, then resolve the dispute.",
                        invoice=invoice,
                        notes=", ".join(drafts[dispute.id].mapped("display_name")),
                    )
                )
            raise UserError(
                self.env._(
                    'Outcome: "Credit note issued", but %(invoice)s has no posted credit note. '
                    "Issue the credit note first (Create Credit Note on the dispute) and post "
                    "it, then resolve the dispute; or choose the outcome that happened.",
                    invoice=invoice,
                )
            )

    def _propose_hold_lifts(self, user):
        """Disputes resolved in the customer's favour with nothing credited or corrected:
        the customer's active credit hold stays, and the dunning managers get a task to
        decide whether to lift it, with an event on the customer."""
        favourable = self._get_favourable_outcomes()
        disputes = self.filtered(lambda d: d.state == "resolved" and d.outcome in favourable)
        disputes -= disputes._get_corrected()
        if not disputes:
            return
        labels = dict(self._fields["outcome"]._description_selection(self.env))
        today = dunning_today(self.env)
        # sudo: the owner (often a salesperson) reads no hold; the holds of the disputes'
        # own customers and companies are read, and the managers are asked to decide.
        Hold = self.env["dunning.credit.hold"].sudo()
        for company in disputes.company_id:
            in_company = disputes.filtered(lambda d, c=company: d.company_id == c)
            holds = Hold._get_open(in_company.partner_id, company).filtered(
                lambda h: h.state == "active"
            )
            notes = {}
            for hold in holds:
                invoices = in_company.filtered(lambda d, h=hold: d.partner_id == h.partner_id)
                notes[hold.id] = self.env._(
                    "Lift proposed: %(user)s resolved the dispute on %(invoices)s in the "
                    "customer's favour (%(outcome)s) without a credit note or a correction of "
                    "the invoice. The credit hold stays until a dunning manager decides.",
                    user=user.name,
                    invoices=", ".join(invoices.move_id.mapped("name")),
                    outcome=", ".join(labels[o] for o in dict.fromkeys(invoices.mapped("outcome"))),
                )
            if not holds:
                continue
            holds._log("hold_lift_proposed", today, user, notes)
            holds._schedule_lift_decision(company, today, notes)

    def _check_can_close(self):
        """The owner closes their dispute; collectors close any of their companies'."""
        if self.env.su:
            return
        self.check_access("read")
        if self.env.user.has_group("dunning_b2b.group_dunning_user"):
            return
        if any(dispute.owner_id != self.env.user for dispute in self):
            raise AccessError(
                self.env._(
                    "Only the dispute's owner or a collector can resolve or reject it. Ask "
                    "%(owners)s.",
                    owners=", ".join(self.owner_id.mapped("name")),
                )
            )

    def _close(self, decision, outcome, note):
        """Resolve or reject: the invoice is chased again at the stage its age calls for."""
        if any(dispute.state != "open" for dispute in self):
            raise UserError(self.env._("Only an open dispute can be resolved or rejected."))
        self._check_can_close()
        today = dunning_today(self.env)
        state = "resolved" if decision == "resolve" else "rejected"
        outcome = "rejected" if decision == "reject" else outcome
        if not outcome:
            raise UserError(
                self.env._("Outcome: say how the dispute was resolved (credit note or correction).")
            )
        if state == "resolved":
            self._check_outcome_evidence(outcome)
        user = self.env.user
        # sudo: the owner may only read disputes; _check_can_close allowed them these
        disputes = self.sudo()
        for dispute in disputes:
            dispute.write(
                {
                    "state": state,
                    "outcome": outcome,
                    "resolution_note": note,
                    "date_closed": today,
                    "resolution_days": (today - dispute.date_opened).days,
                }
            )
        disputes.activity_ids.action_feedback(feedback=note)
        labels = dict(self._fields["outcome"]._description_selection(self.env))
        disputes._log_dunning(
            "dispute_resolved" if state == "resolved" else "dispute_rejected",
            lambda d: (
                self.env._(
                    "Dispute resolved by %(user)s: %(outcome)s. %(note)s Dunning of the invoice "
                    "resumes at the stage its age calls for.",
                    user=user.name,
                    outcome=labels[d.outcome],
                    note=note,
                )
                if d.state == "resolved"
                else self.env._(
                    "Dispute rejected by %(user)s: payment is due. %(note)s Dunning of the "
                    "invoice resumes at the stage its age calls for.",
                    user=user.name,
                    note=note,
                )
            ),
            user=user,
        )
        if state == "resolved":
            disputes._propose_hold_lifts(user)
        self.env["dunning.engine"]._reevaluate(disputes)
        return True
