import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Customers a payment re-evaluates in the payer's transaction; more (a bank statement
# matched in bulk) are queued for the re-evaluation job, so a reconciliation never waits on
# collections work that grows with the number of customers it pays.
AT_ONCE_LIMIT = 20
# Customers the job re-evaluates per committed step.
JOB_BATCH = 200


class DunningReevaluateQueue(models.Model):
    """Customers whose collections state (holds, stage tasks, worklist row) a payment changed
    and that the re-evaluation job has still to bring up to date. Written and read by the
    system only."""

    _name = "dunning.reevaluate.queue"
    _description = "Customers to Re-evaluate after Payments"

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")

    _partner_company_uniq = models.Constraint(
        "UNIQUE(partner_id, company_id)",
        "A customer is queued once per company.",
    )

    @api.model
    def _reevaluate_paid(self, pairs):
        """Re-evaluate the customers of ``pairs`` ({(partner id, company id)}) after a payment:
        at once when they are few, else by the job. A failure never undoes the payment: the
        customers are then queued and the job tries again."""
        if not self.env.registry.ready:
            return  # modules loading: the first run places everything
        if len(pairs) > AT_ONCE_LIMIT:
            self._enqueue(pairs)
            return
        try:
            with self.env.cr.savepoint():
                self._reevaluate(pairs)
        except Exception:  # the payment stands; the job retries and reports
            _logger.exception("Re-evaluation after a payment failed; queued for the job")
            self._enqueue(pairs)

    @api.model
    def _reevaluate(self, pairs):
        by_company = defaultdict(list)
        for partner_id, company_id in pairs:
            by_company[company_id].append(partner_id)
        engine = self.env["dunning.engine"]
        for company_id, partner_ids in by_company.items():
            company = self.env["res.company"].browse(company_id)
            engine._reevaluate_customers(company, self.env["res.partner"].browse(partner_ids))

    @api.model
    def _enqueue(self, pairs):
        rows = [(partner_id, company_id) for partner_id, company_id in sorted(pairs)]
        self.env.cr.execute(
            SQL(
                """INSERT INTO dunning_reevaluate_queue (partner_id, company_id, create_uid,
                                                         create_date, write_uid, write_date)
                   SELECT p, c, %(uid)s, now() at time zone 'UTC', %(uid)s,
                          now() at time zone 'UTC'
                     FROM unnest(%(partners)s::int[], %(companies)s::int[]) AS t(p, c)
                       ON CONFLICT (partner_id, company_id)
                       DO UPDATE SET write_date = EXCLUDED.write_date""",
                uid=self.env.uid,
                partners=[row[0] for row in rows],
                companies=[row[1] for row in rows],
            )
        )
        # sudo: triggering the system's job, whoever paid
        self.env.ref("dunning_b2b.ir_cron_dunning_reevaluate").sudo()._trigger()

    @api.model
    def _cron_process(self):
        """The job: re-evaluate the queued customers, a batch per committed step; rows
        another worker holds are left to it. A batch that fails is retried customer by
        customer; a customer that fails alone is logged and left to the daily run."""
        while True:
            self.env.cr.execute("SELECT count(*) FROM dunning_reevaluate_queue")
            remaining = self.env.cr.fetchone()[0]
            self.env.cr.execute(
                SQL(
                    """SELECT id, partner_id, company_id FROM dunning_reevaluate_queue
                        ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
                    JOB_BATCH,
                )
            )
            rows = self.env.cr.fetchall()
            if not rows:
                return
            if not self._reevaluate_safely({(partner, company) for _id, partner, company in rows}):
                for _id, partner, company in rows:
                    self._reevaluate_safely({(partner, company)})
            # A payment queued meanwhile updated its row, and waited for this lock: the row is
            # deleted here and inserted again once this step commits.
            self.browse([row[0] for row in rows]).unlink()
            if not self.env["ir.cron"]._commit_progress(
                len(rows), remaining=max(remaining - len(rows), 0)
            ):
                return
            self.env.invalidate_all()

    @api.model
    def _reevaluate_safely(self, pairs):
        try:
            with self.env.cr.savepoint():
                self._reevaluate(pairs)
        except Exception:  # the daily run brings these customers up to date anyway
            _logger.exception("Re-evaluation of %s queued customer(s) failed", len(pairs))
            return False
        return True
