from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine import (
    InvoiceState,
    Stage,
    decide_advances,
    group_advances,
    target_stage,
    validate_offsets,
)

RUN = date(2026, 3, 2)
LADDER = [Stage(1, -7), Stage(2, 1), Stage(3, 16), Stage(4, 46), Stage(5, 91)]


def invoice(move_id, days, current=None, partner=10, **kwargs):
    offsets = {stage.id: stage.day_offset for stage in LADDER}
    return InvoiceState(
        move_id=move_id,
        partner_id=partner,
        policy_id=1,
        due_date=date.fromordinal(RUN.toordinal() - days),
        current_stage_id=current,
        current_offset=offsets.get(current),
        **kwargs,
    )


@tagged("post_install", "-at_install")
class TestEngineUnit(BaseCase):
    """The pure decision functions, without a database."""

    def test_stage_boundaries(self):
        expected = {
            -8: None, -7: 1, 0: 1, 1: 2, 15: 2, 16: 3, 45: 3, 46: 4, 90: 4, 91: 5,
        }  # fmt: skip
        for days, stage_id in expected.items():
            with self.subTest(days=days):
                stage = target_stage(LADDER, days)
                self.assertEqual(stage.id if stage else None, stage_id)

    def test_late_invoice_enters_directly_and_reports_skipped(self):
        (advance,) = decide_advances([invoice(7, 50)], {1: LADDER}, RUN)
        self.assertEqual(advance.stage_id, 4)
        self.assertEqual(advance.days_overdue, 50)
        self.assertEqual(advance.skipped_stage_ids, (1, 2, 3))

    def test_only_forward(self):
        advances = decide_advances(
            [invoice(1, 20, current=3), invoice(2, 20, current=4), invoice(3, 20, current=2)],
            {1: LADDER},
            RUN,
        )
        self.assertEqual(
            [(a.move_id, a.stage_id, a.skipped_stage_ids) for a in advances], [(3, 3, ())]
        )

    def test_paused_and_undated_never_advance(self):
        states = [
            invoice(1, 30, excluded=True),
            invoice(2, 30, pause_reasons=("promise",)),
            InvoiceState(move_id=3, partner_id=10, policy_id=1, due_date=None),
        ]
        self.assertEqual(decide_advances(states, {1: LADDER}, RUN), [])

    def test_unknown_policy_is_ignored(self):
        self.assertEqual(decide_advances([invoice(1, 30)], {}, RUN), [])

    def test_grouping_one_message_per_customer_and_stage(self):
        advances = decide_advances(
            [invoice(1, 20), invoice(2, 25), invoice(3, 2), invoice(4, 20, partner=11)],
            {1: LADDER},
            RUN,
        )
        self.assertEqual(group_advances(advances), {(10, 3): [1, 2], (10, 2): [3], (11, 3): [4]})

    def test_validate_offsets(self):
        self.assertIsNone(validate_offsets([-7, 1, 16]))
        self.assertEqual(validate_offsets([-7, 16, 1]), 2)
        self.assertEqual(validate_offsets([1, 1]), 1)
