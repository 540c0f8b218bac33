from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.dunning_b2b.models.dunning_promise import dunning_today
from odoo.addons.dunning_b2b.tools import check_state_create, check_state_write

APPROVAL_FIELDS = (
    "dunning_approval_state",
    "dunning_approved_by_id",
    "dunning_approved_amount",
    "dunning_approved_currency_id",
    "dunning_approved_partner_id",
)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    credit_hold = fields.Boolean(
        compute="_compute_credit_hold",
        help="The customer is on credit hold in the order's company.",
        groups="base.group_user",
    )
    credit_hold_banner = fields.Char(compute="_compute_credit_hold", groups="base.group_user")
    dunning_hold_sale_policy = fields.Selection(
        related="company_id.dunning_hold_sale_policy", groups="base.group_user"
    )
    # The approval fields change only through Request Approval, Approve Order and Refuse
    # Order (see write): an approval is a collections manager's decision.
    dunning_approval_state = fields.Selection(
        [
            ("requested", "Approval requested"),
            ("approved", "Approved"),
            ("refused", "Refused"),
        ],
        string="Credit Hold Approval",
        copy=False,
        readonly=True,
        tracking=True,
        groups="base.group_user",
    )
    dunning_approved_by_id = fields.Many2one(
        "res.users",
        string="Credit Hold Decided By",
        copy=False,
        readonly=True,
        groups="base.group_user",
    )
    # An approval covers the total the manager saw, for that customer and in that currency:
    # a larger order, another customer or another currency needs a new one.
    dunning_approved_amount = fields.Monetary(
        string="Approved Total",
        copy=False,
        readonly=True,
        currency_field="dunning_approved_currency_id",
        groups="base.group_user",
    )
    dunning_approved_currency_id = fields.Many2one(
        "res.currency",
        string="Approved Currency",
        copy=False,
        readonly=True,
        groups="base.group_user",
    )
    dunning_approved_partner_id = fields.Many2one(
        "res.partner",
        string="Approved Customer",
        copy=False,
        readonly=True,
        groups="base.group_user",
    )
    dunning_approval_covered = fields.Boolean(
        compute="_compute_dunning_approval_covered",
        help="An approval covers this order as it is now (customer, currency, total).",
        groups="base.group_user",
    )

    @api.depends("partner_id", "company_id")
    @api.depends_context("lang")
    def _compute_credit_hold(self):
        for order in self:
            # res.partner computes the hold as superuser for every internal user.
            partner = order.partner_id.commercial_partner_id.with_company(order.company_id)
            order.credit_hold = partner.credit_hold
            order.credit_hold_banner = partner.credit_hold_banner if partner.credit_hold else False

    @api.depends(
        "dunning_approval_state",
        "dunning_approved_amount",
        "dunning_approved_currency_id",
        "dunning_approved_partner_id",
        "amount_total",
        "currency_id",
        "partner_id",
    )
    def _compute_dunning_approval_covered(self):
        for order in self:
            order.dunning_approval_covered = order._dunning_approval_covers()

    # ------------------------------------------------------------------- CRUD
    def _get_dunning_approval_guard(self):
        """The approval fields, each with the buttons that change it."""
        how = self.env._(
            'the salesperson clicks "Request Approval", a collections manager "Approve Order" '
            'or "Refuse Order".'
        )
        return dict.fromkeys(APPROVAL_FIELDS, how)

    @api.model_create_multi
    def create(self, vals_list):
        check_state_create(self, vals_list, self._get_dunning_approval_guard(), {})
        return super().create(vals_list)

    def write(self, vals):
        check_state_write(self, vals, self._get_dunning_approval_guard())
        return super().write(vals)

    # ------------------------------------------------------------ confirmation
    def action_confirm(self):
        stopped = self.filtered(lambda order: order._dunning_hold_blocks_confirmation())
        if not stopped:
            return super().action_confirm()
        if self._is_dunning_online_confirmation():
            # The customer signed or paid online: do not fail their page, tell people.
            stopped._dunning_notify_online_confirmation()
            rest = self - stopped
            return super(SaleOrder, rest).action_confirm() if rest else True
        raise UserError(stopped[0]._get_dunning_hold_error())

    def _validate_order(self):
        # Called when the customer signs the quotation on the portal.
        return super(
            SaleOrder, self.with_context(dunning_b2b_online_confirmation=True)
        )._validate_order()

    def _is_dunning_online_confirmation(self):
        return bool(
            self.env.context.get("dunning_b2b_online_confirmation")
            or not self.env.user._is_internal()
        )

    def _dunning_hold_blocks_confirmation(self):
        """Whether the customer's credit hold stops this order from being confirmed now."""
        self.ensure_one()
        if self.state not in ("draft", "sent") or not self.credit_hold:
            return False
        policy = self.company_id.dunning_hold_sale_policy
        if policy == "approval":
            return not self._dunning_approval_covers()
        if policy == "prepayment":
            return not self._dunning_prepayment_reached()
        return True

    def _dunning_approval_covers(self):
        self.ensure_one()
        return (
            self.dunning_approval_state == "approved"
            and self.dunning_approved_partner_id == self.partner_id.commercial_partner_id
            and self.dunning_approved_currency_id == self.currency_id
            and self.currency_id.compare_amounts(self.amount_total, self.dunning_approved_amount)
            <= 0
        )

    def _dunning_prepayment_required(self):
        self.ensure_one()
        return self.currency_id.round(self.amount_total * (self.prepayment_percent or 1.0))

    def _dunning_prepayment_reached(self):
        self.ensure_one()
        paid = self.amount_paid
        return (
            paid > 0
            and self.currency_id.compare_amounts(paid, self._dunning_prepayment_required()) >= 0
        )

    def _get_dunning_hold_error(self):
        self.ensure_one()
        policy = self.company_id.dunning_hold_sale_policy
        intro = self.env._(
            "%(order)s cannot be confirmed: %(customer)s is on credit hold.",
            order=self.name,
            customer=self.partner_id.commercial_partner_id.name,
        )
        if policy == "block":
            what = self.env._("Orders for this customer wait until collections lifts the hold.")
        elif policy == "prepayment":
            what = self.env._(
                "The order is confirmed once a down payment of %(amount)s is registered.",
                amount=self.currency_id.format(self._dunning_prepayment_required()),
            )
        elif self.dunning_approval_state == "requested":
            what = self.env._("Approval was requested; a collections manager decides.")
        elif self.dunning_approval_state == "refused":
            what = self.env._("A collections manager refused this order.")
        elif self.dunning_approval_state == "approved" and (
            self.dunning_approved_partner_id != self.partner_id.commercial_partner_id
            or self.dunning_approved_currency_id != self.currency_id
        ):
            what = self.env._(
                "The approval was given for %(customer)s in %(currency)s; the order changed "
                'since. Click "Request Approval" again.',
                customer=self.dunning_approved_partner_id.name,
                currency=self.dunning_approved_currency_id.name,
            )
        elif self.dunning_approval_state == "approved":
            what = self.env._(
                'The approval covered %(approved)s; the order now totals %(total)s. Click "Request '
                'Approval" again.',
                approved=self.currency_id.format(self.dunning_approved_amount),
                total=self.currency_id.format(self.amount_total),
            )
        else:
            what = self.env._(
                'Click "Request Approval" so that a collections manager can approve this order.'
            )
        return "\n\n".join([intro, self.credit_hold_banner or "", what])

    # --------------------------------------------------------------- approval
    def action_dunning_request_approval(self):
        self.check_access("write")
        for order in self:
            if not order._dunning_hold_blocks_confirmation():
                raise UserError(
                    self.env._("%(order)s needs no credit hold approval.", order=order.name)
                )
            if order.company_id.dunning_hold_sale_policy != "approval":
                raise UserError(order._get_dunning_hold_error())
            if order.dunning_approval_state == "requested":
                raise UserError(
                    self.env._("Approval of %(order)s is already requested.", order=order.name)
                )
        # sudo: approval fields are written by these buttons only; write access checked above
        self.sudo().write(
            {
                "dunning_approval_state": "requested",
                "dunning_approved_by_id": False,
                "dunning_approved_amount": 0,
                "dunning_approved_currency_id": False,
                "dunning_approved_partner_id": False,
            }
        )
        for order in self:
            note = self.env._(
                "%(user)s asks to confirm %(order)s (%(amount)s) although %(customer)s is on "
                "credit hold.",
                user=self.env.user.name,
                order=order.name,
                amount=order.currency_id.format(order.amount_total),
                customer=order.partner_id.commercial_partner_id.name,
            )
            order._dunning_log("order_approval_requested", note)
            deciders = self.env["dunning.credit.hold"]._get_deciders(order.company_id)
            # sudo: decision tasks for managers who may not follow this order
            order.sudo().activity_schedule(
                "dunning_b2b.mail_activity_type_dunning_todo",
                summary=self.env._("Approve or refuse %(order)s (credit hold)", order=order.name),
                note=note,
                user_id=(deciders[:1] or self.env.user).id,
            )
            for decider in deciders[1:]:
                # sudo: decision tasks for managers who may not follow this order
                order.sudo().activity_schedule(
                    "dunning_b2b.mail_activity_type_dunning_todo",
                    summary=self.env._(
                        "Approve or refuse %(order)s (credit hold)", order=order.name
                    ),
                    note=note,
                    user_id=decider.id,
                )
        return True

    def action_dunning_approve(self):
        return self._dunning_decide("approved")

    def action_dunning_refuse(self):
        return self._dunning_decide("refused")

    def _dunning_decide(self, decision):
        if not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            raise AccessError(
                self.env._(
                    "Only a collections manager can approve or refuse an order of a customer "
                    "on credit hold."
                )
            )
        self.check_access("read")
        if self.filtered(lambda o: o.state not in ("draft", "sent")):
            raise UserError(self.env._("Only quotations can be approved or refused."))
        if self.filtered(lambda o: o.company_id.dunning_hold_sale_policy != "approval"):
            raise UserError(
                self.env._(
                    "Orders of customers on credit hold are not approved in this company "
                    "(see Settings, Collections): they are blocked or need a down payment."
                )
            )
        approved = decision == "approved"
        # sudo: managers decide on orders they may have no sales rights on (read checked);
        # the approval fields are written by these buttons only
        orders = self.sudo()
        for order in orders:
            order.write(
                {
                    "dunning_approval_state": decision,
                    "dunning_approved_by_id": self.env.uid,
                    "dunning_approved_amount": order.amount_total if decision == "approved" else 0,
                    "dunning_approved_currency_id": approved and order.currency_id.id,
                    "dunning_approved_partner_id": (
                        approved and order.partner_id.commercial_partner_id.id
                    ),
                }
            )
            if decision == "approved":
                note = self.env._(
                    "%(user)s approved %(order)s despite the credit hold of %(customer)s.",
                    user=self.env.user.name,
                    order=order.name,
                    customer=order.partner_id.commercial_partner_id.name,
                )
            else:
                note = self.env._(
                    "%(user)s refused %(order)s: %(customer)s stays on credit hold.",
                    user=self.env.user.name,
                    order=order.name,
                    customer=order.partner_id.commercial_partner_id.name,
                )
            order._dunning_log(
                "order_approved" if decision == "approved" else "order_refused",
                note,
                notify=order.user_id.partner_id,
            )
            order.activity_ids.filtered(
                lambda a: (
                    a.activity_type_id
                    == self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
                )
            ).action_feedback(feedback=note)
        return True

    # ------------------------------------------------ online confirmation, invoicing
    def _dunning_notify_online_confirmation(self):
        for order in self:
            partner = order.partner_id.commercial_partner_id.with_company(order.company_id)
            collector = partner.dunning_collector_id or order.company_id.dunning_collector_id
            note = self.env._(
                "%(customer)s confirmed %(order)s online, but the order was not confirmed: "
                "%(banner)s Salesperson and collector, please agree on what to tell the "
                "customer.",
                customer=partner.name,
                order=order.name,
                banner=order.credit_hold_banner,
            )
            # sudo: the portal customer's order: its event and chatter, in the order's company
            order.sudo()._dunning_log(
                "order_portal_blocked", note, notify=order.user_id.partner_id | collector.partner_id
            )

    def _create_invoices(self, grouped=False, final=False, date=None):
        # Goods are out: invoicing a confirmed order is never blocked, but the salesperson
        # learns why the customer is held.
        moves = super()._create_invoices(grouped=grouped, final=final, date=date)
        for order in self.filtered("credit_hold"):
            note = self.env._(
                "%(order)s was invoiced while %(customer)s is on credit hold. %(banner)s",
                order=order.name,
                customer=order.partner_id.commercial_partner_id.name,
                banner=order.credit_hold_banner,
            )
            order._dunning_log("order_invoiced_on_hold", note, notify=order.user_id.partner_id)
        return moves

    def _dunning_log(self, event_type, note, notify=None):
        """An event in the customer's dunning history and a note in the order's chatter that
        notifies ``notify`` (partners)."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        # sudo: the customer's hold in the order's company, for users without collections rights
        hold = (
            self.env["dunning.credit.hold"]
            .sudo()
            ._get_open(partner, self.company_id)
            .filtered(lambda h: h.state == "active")
        )
        # sudo: the audit trail is written by the system only, in the order's company
        self.env["dunning.event"].sudo().create(
            {
                "event_type": event_type,
                "date": dunning_today(self.env),
                "partner_id": partner.id,
                "company_id": self.company_id.id,
                "level_id": hold.level_id.id,
                "sale_order_id": self.id,
                "currency_id": self.currency_id.id,
                "amount_residual": self.amount_total,
                "user_id": self.env.uid,
                # The order's name stays in the trail when the order is deleted.
                "note": note if self.name in note else f"{self.name}: {note}",
            }
        )
        recipients = (notify or self.env["res.partner"]).filtered(
            lambda p: p and p != self.env.user.partner_id
        )
        self.message_post(
            body=Markup("<p>%s</p>") % note,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=recipients.ids,
        )
