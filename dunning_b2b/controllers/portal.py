"""The buyer's page: a customer's open items in one company, with what the buyer can do
about them (pay, promise, dispute), reached from a reminder's link without a login, or
under My Account by a portal user of the customer. The work is done by ``dunning.portal``;
this file authenticates, reads the form and renders."""

from dataclasses import dataclass

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

PAGE_ROUTES = ("/dunning/<int:partner_id>/<string:token>", "/my/dunning/<int:company_id>")


def routes(suffix=""):
    return [route + suffix for route in PAGE_ROUTES]


@dataclass
class Scope:
    """Who the page is for: the customer, the company, the link used (none for a portal
    user logged in) and the page's path."""

    partner: object
    company: object
    access: object
    base: str


class DunningCustomerPage(CustomerPortal):
    # ------------------------------------------------------------ authentication
    def _dunning_scope(self, partner_id=None, token=None, company_id=None):
        """The page's scope, or None: a wrong, expired or revoked link, a link of another
        customer, or a company the portal user has no access to."""
        if token is not None:
            access = request.env["dunning.access"]._find(partner_id, token)
            if not access:
                return None
            return Scope(
                access.partner_id, access.company_id, access, f"/dunning/{partner_id}/{token}"
            )
        user = request.env.user
        if user._is_public() or user._is_internal() or company_id not in user.company_ids.ids:
            return None
        return Scope(
            user.partner_id.commercial_partner_id,
            user.company_ids.browse(company_id),
            None,
            f"/my/dunning/{company_id}",
        )

    def _dunning_invalid(self):
        return request.render("dunning_b2b.portal_link_invalid", {}, status=404)

    def _dunning_set_lang(self, scope):
        """The page speaks the customer's language (a portal user keeps their own)."""
        lang = scope.partner.lang
        if scope.access and lang and lang in dict(request.env["res.lang"].get_installed()):
            request.update_context(lang=lang)

    # ------------------------------------------------------------ the page
    def _dunning_render(self, scope, error=None, form=None, done=None, status=200):
        Portal = request.env["dunning.portal"].with_context(lang=request.env.lang)
        values = Portal._get_page_values(scope.partner, scope.company)
        values.update(
            {
                "base": scope.base,
                "access": scope.access,
                "error": error,
                "form": form or {},
                "done": done,
                "res_company": scope.company,
                "page_name": "dunning",
                "contact": Portal._get_contact(scope.partner, scope.company, scope.access),
            }
        )
        return request.render("dunning_b2b.portal_customer_page", values, status=status)

    @http.route(routes(), type="http", auth="public", methods=["GET"], website=True, sitemap=False)
    def dunning_page(self, partner_id=None, token=None, company_id=None, done=None, **kw):
        scope = self._dunning_scope(partner_id, token, company_id)
        if not scope:
            return self._dunning_invalid()
        self._dunning_set_lang(scope)
        if scope.access:
            scope.access._register_open()
        return self._dunning_render(scope, done=done)

    def _dunning_submit(self, scope, action, form):
        """Run ``action`` (a callable) for a form of the page: rate-limited per link; any
        error is shown on the page with the form as it was, and nothing is recorded."""
        if scope.access and not scope.access._take_submission():
            return self._dunning_render(
                scope,
                error=request.env._(
                    "This link has been used for many submissions in the last hour. Please "
                    "try again later, or contact us."
                ),
                form=form,
                status=429,
            )
        try:
            # The action writes in savepoints of its own: a refusal undoes its records
            # only, not the count of submissions above.
            action()
        except (UserError, ValidationError) as error:
            request.env.invalidate_all()
            return self._dunning_render(scope, error=error.args[0], form=form)
        return None

    @http.route(
        routes("/promise"),
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def dunning_promise(self, partner_id=None, token=None, company_id=None, **form):
        scope = self._dunning_scope(partner_id, token, company_id)
        if not scope:
            return self._dunning_invalid()
        self._dunning_set_lang(scope)
        lines = request.httprequest.form.getlist("line")
        Portal = request.env["dunning.portal"]
        failed = self._dunning_submit(
            scope,
            lambda: Portal._promise(
                scope.access,
                scope.partner,
                scope.company,
                lines,
                form.get("promise_date"),
                form.get("amount"),
                (form.get("note") or "").strip(),
            ),
            dict(form, lines=lines, section="promise"),
        )
        return failed or request.redirect(f"{scope.base}?done=promise")

    @http.route(
        routes("/dispute"),
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def dunning_dispute(self, partner_id=None, token=None, company_id=None, **form):
        scope = self._dunning_scope(partner_id, token, company_id)
        if not scope:
            return self._dunning_invalid()
        self._dunning_set_lang(scope)
        lines = request.httprequest.form.getlist("line")
        upload = request.httprequest.files.get("attachment")
        attachment = None
        if upload and upload.filename:
            attachment = (upload.filename, upload.read())
        form.pop("attachment", None)
        Portal = request.env["dunning.portal"]
        failed = self._dunning_submit(
            scope,
            lambda: Portal._dispute(
                scope.access,
                scope.partner,
                scope.company,
                lines,
                form.get("reason"),
                form.get("comment"),
                attachment,
            ),
            dict(form, lines=lines, section="dispute"),
        )
        return failed or request.redirect(f"{scope.base}?done=dispute")

    @http.route(
        routes("/statement"),
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def dunning_statement(self, partner_id=None, token=None, company_id=None, **kw):
        scope = self._dunning_scope(partner_id, token, company_id)
        if not scope:
            return self._dunning_invalid()
        self._dunning_set_lang(scope)
        pdf, name = request.env["dunning.portal"]._get_statement_pdf(scope.partner, scope.company)
        return request.make_response(
            pdf,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(pdf)),
                ("Content-Disposition", http.content_disposition(name)),
            ],
        )

    # ------------------------------------------------------------ My Account
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "dunning_count" in counters:
            values["dunning_count"] = len(self._dunning_companies())
        return values

    def _dunning_companies(self):
        """The companies where the portal user's customer has something open."""
        user = request.env.user
        if user._is_public() or user._is_internal():
            return []
        Portal = request.env["dunning.portal"]
        return [
            company
            for company in user.company_ids
            if Portal._has_open_items(user.partner_id.commercial_partner_id, company)
        ]

    @http.route(
        "/my/dunning", type="http", auth="user", methods=["GET"], website=True, sitemap=False
    )
    def dunning_my_companies(self, **kw):
        companies = self._dunning_companies()
        if len(companies) == 1:
            return request.redirect(f"/my/dunning/{companies[0].id}")
        values = self._prepare_portal_layout_values()
        values.update({"companies": companies, "page_name": "dunning"})
        return request.render("dunning_b2b.portal_my_dunning", values)
