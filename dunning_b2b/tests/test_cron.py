from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestCron(DunningCommon):
    """The daily job, through the real scheduler entry point."""

    def test_cron_runs_the_ladder(self):
        move = self._invoice(self.customer, 20, 100)
        other = self._invoice(self._customer("Beta GmbH", "ap@beta.test"), 2, 100)
        self.env["ir.config_parameter"].sudo().set_param("dunning_b2b.batch_size", 1)
        cron = self.env.ref("dunning_b2b.ir_cron_dunning")
        with freeze_time(RUN_DATE), self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.assertEqual(move.dunning_level_id, self.formal)
        self.assertEqual(other.dunning_level_id, self.follow_up)
        self.assertEqual(move.dunning_date, RUN_DATE)
        progress = self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)])
        self.assertTrue(progress)
        self.assertGreaterEqual(progress[-1:].done, 2, "committed per batch of one customer")
