from datetime import date, timedelta

from odoo.tests import BaseCase, tagged

from ..engine import InvoiceState, Stage, decide_advances, group_advances
from ..engine.items import OpenItem, below_tolerance, positions

RUN = date(2026, 3, 2)
USD, EUR = 1, 2


def item(line_id, amount, days_overdue=10, partner=10, currency=USD, move_id=None):
    return OpenItem(
        line_id=line_id,
        move_id=move_id or line_id,
        partner_id=partner,
        company_id=1,
        currency_id=currency,
        due_date=RUN - timedelta(days=days_overdue),
        amount=amount,
        amount_company=amount * (1.1 if currency == EUR else 1.0),
    )


@tagged("post_install", "-at_install")
class TestItemsUnit(BaseCase):
    """Net positions, tolerance and line-level decisions, on plain values."""

    def test_credits_net_per_customer_and_currency(self):
        result = positions(
            [item(1, 1000), item(2, -1000), item(3, 500, currency=EUR), item(4, -200, partner=11)],
            RUN,
        )
        usd = result[10, USD]
        self.assertTrue(usd.credit_covers_overdue)
        self.assertEqual(usd.net_overdue, 0)
        eur = result[10, EUR]
        self.assertFalse(eur.credit_covers_overdue, "a USD credit nets no EUR invoice")
        self.assertEqual(eur.net_overdue, 500)
        self.assertFalse(result[11, USD].credit_covers_overdue, "nothing overdue to cover")

    def test_partial_credit_leaves_the_net_overdue(self):
        result = positions([item(1, 1000), item(2, 300, days_overdue=-10), item(3, -400)], RUN)
        position = result[10, USD]
        self.assertEqual((position.overdue, position.not_due, position.credits), (1000, 300, 400))
        self.assertEqual(position.net_overdue, 600)
        self.assertEqual(position.net, 900)
        self.assertFalse(position.credit_covers_overdue)

    def test_credit_covering_the_overdue_but_not_what_is_due_later(self):
        position = positions([item(1, 100), item(2, 900, days_overdue=-5), item(3, -150)], RUN)[
            10, USD
        ]
        self.assertTrue(position.credit_covers_overdue)
        self.assertFalse(position.credit_covers_all)

    def test_tolerance_on_the_net_amount(self):
        result = positions([item(1, 0.02)], RUN)
        self.assertTrue(below_tolerance(result, 10, 5.0))
        result = positions([item(1, 40), item(2, -38)], RUN)
        self.assertTrue(below_tolerance(result, 10, 5.0), "2.00 net is below 5.00")
        self.assertFalse(below_tolerance(positions([item(1, 40)], RUN), 10, 5.0))

    def test_instalments_advance_on_their_own_due_dates(self):
        ladder = {1: [Stage(1, -7), Stage(2, 1), Stage(3, 16)]}
        states = [
            InvoiceState(7, 10, 1, RUN - timedelta(days=30), line_id=71),
            InvoiceState(7, 10, 1, RUN + timedelta(days=30), line_id=72),
            InvoiceState(7, 10, 1, RUN + timedelta(days=5), line_id=73),
        ]
        advances = decide_advances(states, ladder, RUN)
        self.assertEqual([(a.line_id, a.stage_id) for a in advances], [(71, 3), (73, 1)])
        self.assertEqual(group_advances(advances), {(10, 3): [71], (10, 1): [73]})
