from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..engine import is_key_account, revenue_share
from ..tools import check_internal_search, check_list_access, run_memo


class ResPartner(models.Model):
    """The customer's credit hold in the current company, as sales and collections see it,
    and the key-account status that makes a hold a manager's decision."""

    _inherit = "res.partner"

    # Credit hold of the customer (commercial partner) in the current company. Sales users
    # read these fields without any right on the holds themselves: computed as superuser.
    credit_hold = fields.Boolean(
        compute="_compute_credit_hold",
        search="_search_credit_hold",
        inverse="_inverse_credit_hold",
        help="The customer is on credit hold in the current company: new orders need a "
        "collections manager's approval. A collections manager may set it (a hold by hand) "
        "or clear it (lifts a hold set by hand).",
        groups="base.group_user",
    )
    credit_hold_reason = fields.Char(compute="_compute_credit_hold", groups="base.group_user")
    credit_hold_date = fields.Date(
        string="Credit Hold Since", compute="_compute_credit_hold", groups="base.group_user"
    )
    credit_hold_user_id = fields.Many2one(
        "res.users",
        string="Credit Hold Set By",
        compute="_compute_credit_hold",
        groups="base.group_user",
    )
    credit_hold_origin = fields.Selection(
        [("stage", "Dunning stage"), ("manager", "Manager"), ("credit_limit", "Credit limit")],
        compute="_compute_credit_hold",
        groups="base.group_user",
    )
    credit_hold_level_id = fields.Many2one(
        "dunning.level",
        string="Credit Hold Stage",
        compute="_compute_credit_hold",
        groups="base.group_user",
    )
    credit_hold_banner = fields.Char(compute="_compute_credit_hold", groups="base.group_user")
    credit_hold_proposed = fields.Boolean(
        string="Credit Hold To Decide",
        compute="_compute_credit_hold",
        groups="base.group_user",
    )
    dunning_key_account = fields.Boolean(
        string="Key Account",
        company_dependent=True,
        help="Flag by hand: a hold on this customer is always a manager's decision. Customers "
        "above the company's revenue share threshold are key accounts anyway.",
        groups="base.group_user",
    )
    dunning_revenue_share = fields.Float(
        string="Revenue Share (%)",
        compute="_compute_dunning_revenue_share",
        digits=(16, 1),
        help="Share of the company's invoiced revenue over the last 12 months.",
        groups="base.group_user",
    )

    @api.depends_context("company", "lang")
    def _compute_credit_hold(self):
        company = self.env.company
        commercial_ids = [pid for pid in self.commercial_partner_id.ids if pid]
        # sudo: the banner for any internal user; current company's holds, display fields only
        holds = (
            self.env["dunning.credit.hold"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", commercial_ids),
                    ("company_id", "=", company.id),
                    ("state", "in", ("proposed", "active")),
                ]
            )
        )
        by_partner = {hold.partner_id.id: hold for hold in holds}
        for partner in self:
            hold = by_partner.get(partner.commercial_partner_id.id)
            active = bool(hold) and hold.state == "active"
            partner.credit_hold = active
            partner.credit_hold_proposed = bool(hold) and hold.state == "proposed"
            partner.credit_hold_reason = hold.reason if active else False
            partner.credit_hold_date = hold.date_start if active else False
            partner.credit_hold_user_id = hold.user_id.sudo(False) if active else False
            partner.credit_hold_origin = hold.origin if active else False
            partner.credit_hold_level_id = (
                hold.level_id.sudo(False) if active and hold.level_id else False
            )
            partner.credit_hold_banner = hold._get_banner() if active else False

    def _inverse_credit_hold(self):
        """``credit_hold`` written (over RPC, an import, a server action): a collections
        manager's hold by hand in the current company, or the lift of one; anyone else gets
        an error naming who can, and a write that cannot be honoured is refused, never
        dropped."""
        Hold = self.env["dunning.credit.hold"]
        company = self.env.company
        partners = self.commercial_partner_id
        # sudo: the manager's right was checked; holds are read across the current company.
        active = {
            hold.partner_id: hold
            # sudo: holds of these customers in the current company; rights checked below
            for hold in Hold.sudo()._get_open(partners, company)
            if hold.state == "active"
        }
        wanted = {partner.commercial_partner_id: partner.credit_hold for partner in self}
        to_set = self.browse([p.id for p, held in wanted.items() if held and p not in active])
        to_lift = [active[p] for p, held in wanted.items() if not held and p in active]
        if to_set or to_lift:  # the value as it is, on a new contact too, needs no right
            Hold._check_dunning_manager()
        if to_set:
            reason = self.env._("Set by %(user)s", user=self.env.user.name)
            Hold._set_by_manager(to_set, reason)
        if not to_lift:
            return
        by_stage = [hold for hold in to_lift if hold.origin != "manager"]
        if by_stage:
            raise UserError(
                self.env._(
                    "Credit hold of %(customers)s: it was set by the dunning ladder or the "
                    "credit limit, not by hand. Use Lift Credit Hold on the customer and give "
                    "the reason.",
                    customers=", ".join(hold.partner_id.display_name for hold in by_stage),
                )
            )
        Hold.browse([hold.id for hold in to_lift])._lift_by_manager(
            self.env._("Cleared by %(user)s", user=self.env.user.name)
        )

    def _search_credit_hold(self, operator, value):
        check_internal_search(self, "credit_hold")
        if operator not in ("in", "not in"):
            return NotImplemented
        # sudo: held customers of the current company for any internal user (as the compute)
        holds = (
            self.env["dunning.credit.hold"]
            .sudo()
            ._search([("company_id", "=", self.env.company.id), ("state", "=", "active")])
        )
        held = Domain("commercial_partner_id", "in", holds.subselect("partner_id"))
        positive = (operator == "in") == (True in value)
        return held if positive else ~held

    @api.depends_context("company")
    def _compute_dunning_revenue_share(self):
        keys = self.commercial_partner_id._get_dunning_key_accounts(
            self.env.company, fields.Date.context_today(self)
        )
        for partner in self:
            share = keys.get(partner.commercial_partner_id.id, (0.0, False))[0]
            partner.dunning_revenue_share = share * 100

    def _get_dunning_key_accounts(self, company, date):
        """Share of ``company``'s invoiced revenue over the 12 months up to ``date`` and
        key-account status of each commercial partner of ``self``.

        :return: dict partner id -> (share 0..1, is key account)
        """
        partners = self.commercial_partner_id.filtered("id")
        # sudo: revenue figures feed a decision the ladder takes, whoever reads them.
        Move = self.env["account.move"].sudo()
        domain = Domain(
            [
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("invoice_date", ">", date - relativedelta(months=12)),
                ("invoice_date", "<=", date),
            ]
        )
        [(total,)] = run_memo(
            self.env,
            ("revenue", company.id, date),
            lambda: Move._read_group(domain, [], ["amount_untaxed_signed:sum"]),
        )
        revenue = dict(
            Move._read_group(
                domain & Domain("commercial_partner_id", "in", partners.ids),
                ["commercial_partner_id"],
                ["amount_untaxed_signed:sum"],
            )
        )
        threshold = company.dunning_key_account_threshold
        result = {}
        for partner in partners.with_company(company):
            share = revenue_share(revenue.get(partner, 0.0), total)
            result[partner.id] = (
                share,
                # sudo: the key-account flag (managers' field) of this customer in company
                is_key_account(share, threshold, partner.sudo().dunning_key_account),
            )
        return result

    def _check_credit_hold_manager(self):
        if not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            raise AccessError(
                self.env._(
                    "Only a collections manager can put a customer on credit hold or lift a "
                    "hold. Ask a user with Collections / Manager access."
                )
            )

    def action_credit_hold_set(self):
        self.ensure_one()
        self._check_credit_hold_manager()
        return self._open_credit_hold_decision("set")

    def action_credit_hold_lift(self):
        self.ensure_one()
        self._check_credit_hold_manager()
        return self._open_credit_hold_decision("lift")

    def action_view_credit_holds(self):
        self.ensure_one()
        check_list_access(self, "dunning.credit.hold")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_b2b.dunning_credit_hold_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def _open_credit_hold_decision(self, decision):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Put on Credit Hold")
            if decision == "set"
            else self.env._("Lift Credit Hold"),
            "res_model": "dunning.credit.hold.decide",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_decision": decision,
            },
        }
