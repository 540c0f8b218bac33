import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase

from .conversations_common import ConversationCommon
from .lines_common import LinesMixin


class PortalCommon(LinesMixin, ConversationCommon, HttpCase):
    """A customer with an overdue invoice and a credit note, and a link to their page.

    The HTTP server runs on today's date: invoices are dated from today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.move = cls._invoice_on(
            cls.customer, cls.today - timedelta(days=40), cls.today - timedelta(days=10), 1000.0
        )
        cls.other = cls._customer("Other Buyer", "ap@other.test")
        cls.other_move = cls._invoice_on(
            cls.other, cls.today - timedelta(days=40), cls.today - timedelta(days=10), 777.0
        )
        cls.access, cls.url = cls.env["dunning.access"]._create_link(cls.customer, cls.company)
        cls.path = cls.url.split("/", 3)[3]
        cls.line = cls.move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _get(self, path=None, **params):
        return self.url_open("/" + (path or self.path), params=params, allow_redirects=False)

    def _csrf(self, response):
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        self.assertTrue(found, "the page's form carries a CSRF token")
        return found.group(1)

    def _post(self, action, data, files=None, csrf=True, path=None):
        path = path or self.path
        page = self._get(path)
        data = list(data.items() if isinstance(data, dict) else data)
        if csrf:
            data.append(("csrf_token", self._csrf(page)))
        return self.url_open(f"/{path}/{action}", data=data, files=files, allow_redirects=False)
