"""Paying from the buyer's page, through Odoo's own payment stack: the payment form of
``payment`` and the transaction of ``account_payment`` (linked to the invoices, which Odoo
reconciles with the payment when it is confirmed). What is paid is computed here from the
selected open items, never taken from the browser."""

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.http import request

from odoo.addons.account_payment.controllers.payment import PaymentPortal
from odoo.addons.payment import utils as payment_utils

from .portal import DunningCustomerPage, routes


class DunningPayment(PaymentPortal):
    @http.route(
        routes("/pay"), type="http", auth="public", methods=["GET"], website=True, sitemap=False
    )
    def dunning_pay(self, partner_id=None, token=None, company_id=None, **kw):
        page = DunningCustomerPage()
        scope = page._dunning_scope(partner_id, token, company_id)
        if not scope:
            return page._dunning_invalid()
        page._dunning_set_lang(scope)
        line_ids = request.httprequest.args.getlist("line")
        try:
            selection = request.env["dunning.portal"]._get_payment(
                scope.partner, scope.company, line_ids
            )
        except UserError as error:
            return page._dunning_render(scope, error=error.args[0], form={"lines": line_ids})
        selected = "-".join(str(item.line_id) for item in selection["items"])
        values = self._dunning_payment_form_values(scope, selection)
        values.update(
            {
                "base": scope.base,
                "selection": selection,
                "res_company": scope.company,
                "transaction_route": f"{scope.base}/transaction/{selected}",
                "landing_route": f"{scope.base}?done=payment",
            }
        )
        return request.render("dunning_b2b.portal_pay_page", values)

    def _dunning_payment_form_values(self, scope, selection):
        """What Odoo's payment form needs (providers, methods, saved tokens of the payer),
        as ``account_payment`` computes it for an invoice."""
        # By link, the payer is the link's customer, whoever is logged in; under My Account,
        # the portal user of the customer.
        # sudo: the customer of the link checked above, as account_payment reads it
        partner_sudo = scope.partner.sudo() if scope.access else request.env.user.partner_id
        currency = selection["currency"]
        amount = selection["amount"]
        report = {}
        # sudo: providers, methods and tokens are read as account_payment does for a buyer
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                scope.company.id, partner_sudo.id, amount, currency_id=currency.id, report=report
            )
        )
        # sudo: as above
        methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids, partner_sudo.id, currency_id=currency.id, report=report
            )
        )
        # Saved payment details are offered, and saved, only under My Account (logged in):
        # whoever holds a reminder's link must not pay with, or add to, the customer's cards.
        logged_in = not scope.access
        # sudo: as above
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
            if logged_in
            else request.env["payment.token"].sudo()
        )
        return {
            "amount": amount,
            "currency": currency,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": report,
            "show_tokenize_input_mapping": self._compute_show_tokenize_input_mapping(providers_sudo)
            if logged_in
            else dict.fromkeys(providers_sudo.ids, False),
            "access_token": payment_utils.generate_access_token(
                partner_sudo.id, amount, currency.id
            ),
            "company_mismatch": not self._can_partner_pay_in_company(partner_sudo, scope.company),
            "expected_company": scope.company,
        }

    @http.route(
        routes("/transaction/<string:selected>"), type="jsonrpc", auth="public", sitemap=False
    )
    def dunning_transaction(
        self, partner_id=None, token=None, company_id=None, selected="", access_token=None, **kw
    ):
        """Create the draft transaction of the selected items and return its processing
        values (the payment form's transaction route). The amount is the one computed from
        what is open now, whatever the browser sent."""
        page = DunningCustomerPage()
        scope = page._dunning_scope(partner_id, token, company_id)
        if not scope:
            raise ValidationError(request.env._("This link is no longer valid."))
        if scope.access and not scope.access._take_submission():
            raise ValidationError(
                request.env._("Too many attempts with this link; please try again later.")
            )
        selection = request.env["dunning.portal"]._get_payment(
            scope.partner, scope.company, selected.split("-")
        )
        self._validate_transaction_kwargs(kw)
        if kw.pop("is_validation", False):
            raise ValidationError(request.env._("This page takes payments only."))
        payer = scope.partner if scope.access else request.env.user.partner_id
        if scope.access:
            # By link, no saved card of the customer is used and none is saved.
            if kw.get("flow") == "token" or kw.get("token_id"):
                raise ValidationError(request.env._("Saved payment details need a login."))
            kw["tokenization_requested"] = False
        kw.update(
            {
                "amount": selection["amount"],
                "currency_id": selection["currency"].id,
                "partner_id": payer.id,
                "reference_prefix": None,
            }
        )
        moves = selection["moves"]
        tx_sudo = self._create_transaction(
            custom_create_values={
                "invoice_ids": [Command.set(moves.ids)],
                "dunning_credit_line_ids": [Command.set(selection["credit_line_ids"])],
                "dunning_portal": True,
            },
            **kw,
        )
        return tx_sudo._get_processing_values()
