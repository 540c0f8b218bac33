from datetime import timedelta

from odoo import Command

from .common import RUN_DATE


class LinesMixin:
    """Invoices in instalments and open credit notes, for tests on receivable lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Half 30 days after the invoice date, half 90 days after it.
        cls.half_30_half_90 = cls.env["account.payment.term"].create(
            {
                "name": "50% 30 days, 50% 90 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 90}),
                ],
            }
        )

    @classmethod
    def _date_moved_customers(cls):
        """Customers whose figures the date moves: one overdue invoice (the common
        customer), two instalments (one overdue, one due on day 50), an invoice due in three
        days, and an invoice paid a day late 40 days ago."""
        cls.overdue = cls._invoice(cls.customer, 20, 500.0)
        cls.split = cls._customer("Cedar Split", "ap@cedar.test")
        cls._instalment_invoice(cls.split, RUN_DATE - timedelta(days=40), 1000.0)
        cls.soon = cls._customer("Elm Soon", "ap@elm.test")
        cls._invoice(cls.soon, -3, 250.0)
        cls.paid = cls._customer("Gum Paid", "ap@gum.test")
        cls._paid_invoice(cls.paid, RUN_DATE - timedelta(days=71), RUN_DATE - timedelta(days=41),
                          300.0, RUN_DATE - timedelta(days=40))  # fmt: skip

    @classmethod
    def _instalment_invoice(cls, partner, invoice_date, amount):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": cls.half_30_half_90.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Consulting",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    @classmethod
    def _credit_note(cls, partner, amount, days_ago=10, currency=None):
        """A posted credit note of ``amount``, not matched with any invoice."""
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": RUN_DATE - timedelta(days=days_ago),
                "currency_id": (currency or cls.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Returned goods",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        return refund
