from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine import (
    BROKEN,
    KEPT,
    OPEN,
    PromiseState,
    decide_promise,
    decide_promises,
    kept_ratio,
    normalize_phone,
)

DUE = date(2026, 3, 10)


def promise(paid=0.0, amount=1000.0, open_at_start=1500.0, extension=None, promise_id=1):
    return PromiseState(
        promise_id=promise_id,
        amount=amount,
        promise_date=DUE,
        open_at_start=open_at_start,
        open_now=open_at_start - paid,
        extension_date=extension,
    )


@tagged("post_install", "-at_install")
class TestConversationsUnit(BaseCase):
    """Promise decisions and phone numbers, without a database."""

    def test_paid_in_full_is_kept_even_before_the_date(self):
        decision = decide_promise(promise(paid=1000), date(2026, 3, 5))
        self.assertEqual((decision.state, decision.paid), (KEPT, 1000))

    def test_everything_open_paid_is_kept(self):
        state = PromiseState(1, 1000.0, DUE, open_at_start=800.0, open_now=0.0)
        self.assertEqual(decide_promise(state, date(2026, 3, 20)).state, KEPT)

    def test_open_until_and_on_the_date(self):
        self.assertEqual(decide_promise(promise(paid=300), DUE).state, OPEN)

    def test_unpaid_after_the_date_is_broken(self):
        decision = decide_promise(promise(), date(2026, 3, 11))
        self.assertEqual((decision.state, decision.paid), (BROKEN, 0))

    def test_partial_payment_breaks_without_extension(self):
        decision = decide_promise(promise(paid=400), date(2026, 3, 11))
        self.assertEqual((decision.state, decision.paid), (BROKEN, 400))

    def test_partial_payment_with_extension_stays_open_until_it(self):
        extended = promise(paid=400, extension=date(2026, 3, 20))
        self.assertEqual(decide_promise(extended, date(2026, 3, 20)).state, OPEN)
        self.assertEqual(decide_promise(extended, date(2026, 3, 21)).state, BROKEN)

    def test_extension_needs_a_partial_payment(self):
        extended = promise(paid=0, extension=date(2026, 3, 20))
        self.assertEqual(decide_promise(extended, date(2026, 3, 12)).state, BROKEN)

    def test_payments_before_the_promise_do_not_count(self):
        # 500 was paid before the promise: open_at_start already excludes it.
        state = PromiseState(1, 1000.0, DUE, open_at_start=1000.0, open_now=1000.0)
        self.assertEqual(decide_promise(state, date(2026, 3, 11)).paid, 0)

    def test_decide_promises_returns_changes_only(self):
        decisions = decide_promises(
            [promise(promise_id=1), promise(paid=1000, promise_id=2), promise(promise_id=3)],
            DUE,
        )
        self.assertEqual([(d.promise_id, d.state) for d in decisions], [(2, KEPT)])

    def test_kept_ratio(self):
        self.assertEqual(kept_ratio(3, 1), 75.0)
        self.assertIsNone(kept_ratio(0, 0))

    def test_phone_valid_national_number(self):
        phone = normalize_phone("(206) 555-0101", "US")
        self.assertEqual(phone.e164, "+12065550101")
        self.assertEqual(phone.international, "+1 206-555-0101")

    def test_phone_foreign_number(self):
        # A German customer's number written the German way, read with its country.
        self.assertEqual(normalize_phone("089 5550 1234", "DE").e164, "+498955501234")
        # An international number stays in its own country whatever the region.
        self.assertEqual(normalize_phone("+44 20 7946 0958", "US").e164, "+442079460958")

    def test_phone_invalid_number(self):
        for raw in ("call me maybe", "12", "", None):
            with self.subTest(raw=raw):
                phone = normalize_phone(raw, "US")
                self.assertFalse(phone.valid)
                self.assertIsNone(phone.e164)
