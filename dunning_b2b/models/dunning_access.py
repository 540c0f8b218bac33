import hashlib
import hmac
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime

from ..tools import check_dunning_rights
from .dunning_promise import dunning_today

# Form submissions (promise, dispute, payment) a link accepts per hour.
RATE_LIMIT = 10
RATE_WINDOW = timedelta(hours=1)


class DunningAccess(models.Model):
    """A link to the buyer's page of one customer in one company: what a reminder (email or
    letter) carries so that the buyer can pay, promise or dispute without a login.

    The token is random (32 bytes) and only its keyed hash (HMAC-SHA256 with the database
    secret) is stored: the link cannot be read back from the database, nor forged without
    the secret. Each message of a stage gets a link of its own; a link expires after the
    company's validity (days) and a dunning manager can revoke it. Opening and using the link
    are counted on it; the form submissions it accepts are rate-limited.
    """

    _name = "dunning.access"
    _inherit = ["dunning.company.check"]
    _description = "Customer Page Link"
    _order = "create_date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    message_id = fields.Many2one(
        "dunning.message",
        string="Reminder",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
    )
    origin = fields.Selection(
        [("email", "Email"), ("letter", "Letter"), ("portal", "My Account")],
        required=True,
        readonly=True,
        default="email",
    )
    token_hash = fields.Char(
        required=True, readonly=True, index=True, copy=False, groups="base.group_system"
    )
    date_expires = fields.Datetime(string="Expires On", required=True, readonly=True)
    revoked = fields.Boolean(readonly=True, copy=False)
    revoked_by_id = fields.Many2one("res.users", readonly=True)
    revoked_date = fields.Datetime(readonly=True)
    first_opened = fields.Datetime(readonly=True)
    last_opened = fields.Datetime(readonly=True)
    open_count = fields.Integer(string="Opened", readonly=True)
    submit_window = fields.Datetime(readonly=True, groups="base.group_system")
    submit_count = fields.Integer(readonly=True, groups="base.group_system")
    state = fields.Selection(
        [("valid", "Valid"), ("expired", "Expired"), ("revoked", "Revoked")],
        compute="_compute_state",
    )

    _token_hash_unique = models.Constraint("UNIQUE(token_hash)", "A link's token is unique.")

    @api.depends("revoked", "date_expires")
    def _compute_state(self):
        now = fields.Datetime.now()
        for access in self:
            if access.revoked:
                access.state = "revoked"
            elif access.date_expires and access.date_expires < now:
                access.state = "expired"
            else:
                access.state = "valid"

    # ---------------------------------------------------------------- tokens
    @api.model
    def _hash_token(self, token):
        # sudo: the database secret keys the hash; it is never shown
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        return hmac.new(
            secret.encode(), f"dunning.access:{token}".encode(), hashlib.sha256
        ).hexdigest()

    @api.model
    def _create_link(self, partner, company, message=None, origin="email"):
        """A new link to ``partner``'s page in ``company``.

        :return: (the access record, the page's URL with the token: shown once, never stored)
        """
        token = secrets.token_urlsafe(32)
        # sudo: the system issues the link of a document the user may send or print; the
        # token's hash is readable by administrators only.
        access = self.sudo().create(
            self._prepare_link_vals(partner, company, token, message, origin)
        )
        return access.sudo(False), access._get_url(token)

    @api.model
    def _create_message_links(self, messages):
        """A new link for each of ``messages`` (sent now), created in one batch.

        :return: dict message id -> the page's URL with the token
        """
        tokens = {message.id: secrets.token_urlsafe(32) for message in messages}
        # sudo: the system issues the links of the messages it sends (see _create_link)
        accesses = self.sudo().create(
            [
                self._prepare_link_vals(
                    message.partner_id, message.company_id, tokens[message.id], message
                )
                for message in messages
            ]
        )
        return {
            access.message_id.id: access._get_url(tokens[access.message_id.id])
            for access in accesses
        }

    @api.model
    def _prepare_link_vals(self, partner, company, token, message=None, origin="email"):
        days = company.dunning_link_days or 60
        return {
            "partner_id": partner.commercial_partner_id.id,
            "company_id": company.id,
            "message_id": message and message.id,
            "origin": origin,
            "token_hash": self._hash_token(token),
            "date_expires": fields.Datetime.now() + timedelta(days=days),
        }

    def _get_url(self, token):
        self.ensure_one()
        base = self.company_id.get_base_url() if self.company_id else self.get_base_url()
        return f"{base}/dunning/{self.partner_id.id}/{token}"

    @api.model
    def _find(self, partner_id, token):
        """The valid link for ``token`` on the page of ``partner_id``, else None: a wrong,
        expired or revoked token, or one issued for another customer, finds nothing.
        Compared in constant time; the caller runs as the public user."""
        if not token or len(token) > 128 or not isinstance(partner_id, int):
            return None
        digest = self._hash_token(token)
        # sudo: the buyer is not a user; the token is the credential checked below
        access = self.sudo().search([("token_hash", "=", digest)], limit=1)
        if not access or not hmac.compare_digest(access.token_hash, digest):
            return None
        if access.partner_id.id != partner_id or access.state != "valid":
            return None
        return access

    def _register_open(self):
        """Count an opening of the page, and tell the reminder it was opened."""
        # One UPDATE that adds to the count: concurrent openings neither conflict nor lose one.
        self.env.cr.execute(
            """UPDATE dunning_access
                  SET first_opened = COALESCE(first_opened, NOW() AT TIME ZONE 'UTC'),
                      last_opened = NOW() AT TIME ZONE 'UTC',
                      open_count = COALESCE(open_count, 0) + 1
                WHERE id IN %s""",
            [tuple(self.ids)],
        )
        self.invalidate_recordset(["first_opened", "last_opened", "open_count"])
        if self.message_id:
            self.message_id._dunning_mark_opened()

    def _take_submission(self):
        """Count a form submission; False when the link has used up its hour's quota."""
        self.ensure_one()
        now = fields.Datetime.now()
        if not self.submit_window or now - self.submit_window > RATE_WINDOW:
            self.write({"submit_window": now, "submit_count": 1})
            return True
        if self.submit_count >= RATE_LIMIT:
            return False
        self.submit_count += 1
        return True

    # ---------------------------------------------------------------- actions
    def action_revoke(self):
        """Revoke links: their page answers as for a wrong token from now on."""
        check_dunning_rights(self, "manager")
        links = self.filtered(lambda access: not access.revoked)
        if not links:
            raise UserError(self.env._("Revoke: the selected links are already revoked."))
        # sudo: revoked, by whom and when are set by the system only (readonly fields)
        links.sudo().write(
            {
                "revoked": True,
                "revoked_by_id": self.env.user.id,
                "revoked_date": fields.Datetime.now(),
            }
        )
        events = []
        for access in links:
            note = self.env._(
                "Customer page link of %(date)s revoked by %(user)s.",
                date=format_datetime(self.env, access.create_date),
                user=self.env.user.name,
            )
            access.partner_id._message_log(body=note)
            events.append(
                {
                    "date": dunning_today(self.env),
                    "event_type": "link_revoked",
                    "partner_id": access.partner_id.id,
                    "company_id": access.company_id.id,
                    "message_id": access.message_id.id,
                    "user_id": self.env.user.id,
                    "note": note,
                }
            )
        # sudo: the audit trail is written by the system only
        self.env["dunning.event"].sudo()._create_bulk(events)
        return True
