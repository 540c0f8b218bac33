from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine.items import OpenItem
from ..engine.worklist import customer_figures

RUN = date(2026, 3, 2)
USD, EUR = 1, 2


def item(line_id, amount, due=None, currency=USD, company_amount=None, move_id=None, **kw):
    return OpenItem(
        line_id=line_id,
        move_id=move_id or line_id,
        partner_id=kw.pop("partner_id", 7),
        company_id=1,
        currency_id=currency,
        due_date=due,
        amount=amount,
        amount_company=amount if company_amount is None else company_amount,
        **kw,
    )


@tagged("post_install", "-at_install")
class TestWorklistFigures(BaseCase):
    """Open figures of a customer from its receivable lines (engine.worklist)."""

    def test_instalments_each_on_its_due_date(self):
        figures = customer_figures(
            [item(1, 500, date(2026, 1, 31), move_id=9), item(2, 500, date(2026, 4, 1), move_id=9)],
            RUN,
        )[7]
        self.assertEqual((figures.overdue, figures.max_days, figures.open_count), (500, 30, 2))
        self.assertEqual(figures.overdue_items, [(500, 30)])
        self.assertEqual(figures.first_due, date(2026, 1, 31))

    def test_credits_net_in_proportion_and_per_currency(self):
        items = [
            item(1, 600, date(2026, 2, 20)),  # 10 days
            item(2, 400, date(2026, 2, 10)),  # 20 days
            item(3, -500),  # credit note, same currency
            item(4, -1000, currency=EUR, company_amount=-500),  # EUR credit: nets nothing
        ]
        figures = customer_figures(items, RUN)[7]
        self.assertEqual(figures.overdue, 500)
        self.assertEqual(figures.gross_overdue, 1000)
        self.assertEqual(figures.exposure, 500, "never below zero in a currency: EUR nets no USD")
        self.assertEqual(figures.overdue_items, [(300, 10), (200, 20)])
        self.assertFalse(figures.credit_covers_overdue)

    def test_covered_customer_has_nothing_overdue(self):
        figures = customer_figures([item(1, 1000, date(2026, 2, 1)), item(2, -1000)], RUN)[7]
        self.assertTrue(figures.credit_covers_overdue)
        self.assertEqual((figures.overdue, figures.chased, figures.max_days), (0, 0, 0))

    def test_paused_and_excluded_lines_are_not_chased(self):
        items = [
            item(1, 300, date(2026, 2, 1), move_id=5),
            item(2, 200, date(2026, 2, 1), move_id=6, excluded=True),
        ]
        figures = customer_figures(items, RUN, paused_move_ids={5})[7]
        self.assertEqual((figures.overdue, figures.chased), (500, 0))
        self.assertFalse(figures.excluded, "one line is not excluded")

    def test_only_credits_is_not_a_customer_to_chase(self):
        self.assertEqual(customer_figures([item(1, -100)], RUN), {})
