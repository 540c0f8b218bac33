from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL

from ..engine import kpi
from .dunning_kpi import month_start

# The sums of kpi.resolution_by_stage, in the order a customer's part lists them after its
# key (month, currency, segment, collector, stage).
ANALYSIS_SUMS = ("entered", "resolved", "written_off_count", "moved_on", "open",
                 "entered_amount", "recovered", "written_off")  # fmt: skip
COUNTS = ANALYSIS_SUMS[:5]  # the others are amounts
KEY_SIZE = 5


class DunningKpi(models.AbstractModel):
    """The stage outcomes (dunning.analysis) as sums of each customer's share, kept on the
    customer's profile (``dunning.customer.kpi.analysis_parts``): a refresh of the customers
    whose data changed rewrites their shares and sums them again, without reading the other
    customers' lines and events."""

    _inherit = "dunning.kpi"

    @api.model
    def _count_profiles(self, company, first, run_date):
        """The profiles of ``company``, and those not computed on ``run_date`` over the
        window starting on ``first`` (of another day or window, or of an older version).

        :return: (count, stale count)
        """
        self.env["dunning.customer.kpi"].flush_model()
        return self.env.execute_query(
            SQL(
                """SELECT count(*),
                          count(*) FILTER (WHERE analysis_parts->>'first' IS DISTINCT FROM %s
                                              OR analysis_parts->>'date' IS DISTINCT FROM %s)
                     FROM dunning_customer_kpi WHERE company_id = %s""",
                str(first),
                str(run_date),
                company.id,
            )
        )[0]

    @api.model
    def _parts_are_current(self, company, first, run_date):
        """Whether every profile of ``company`` was computed on ``run_date`` over the window
        starting on ``first``: only then may some customers be computed again alone (on
        another day, figures move with the date; in another window, with the months)."""
        total, stale = self._count_profiles(company, first, run_date)
        return bool(total) and not stale

    @api.model
    def _get_analysis_parts(self, first, invoices, entries, settlements, settled_on, profile):
        """Each customer's share of the stage entries since ``first``: per month, currency,
        segment, collector and stage, the sums of :func:`kpi.resolution_by_stage`.

        :return: dict customer id -> list of [month (ISO), currency id, segment, collector
            id, stage id, *sums in the order of ANALYSIS_SUMS]
        """
        by_key = defaultdict(list)
        for entry in entries:
            if entry.entered_on < first:
                continue
            invoice = invoices[entry.move_id]
            partner_id = invoice["partner_id"]
            segment, collector_id = profile.get(partner_id, (False, False))
            key = (partner_id, month_start(entry.entered_on), invoice["currency_id"], segment,
                   collector_id, entry.stage_id)  # fmt: skip
            by_key[key].append(entry)
        parts = defaultdict(list)
        for (partner_id, month, *key), group in by_key.items():
            stats = kpi.resolution_by_stage(group, settlements, settled_on)[key[-1]]
            # JSON null for an empty value (no segment, no collector), as SQL reads it back
            parts[partner_id].append(
                [str(month), *(value or None for value in key),
                 *(stats[name] for name in ANALYSIS_SUMS)]
            )  # fmt: skip
        return parts

    @api.model
    def _sum_analysis_parts(self, company, first, run_date):
        """The company's stage outcomes: the shares of its customers' profiles computed on
        ``run_date`` over the window starting on ``first``, added up.

        :return: dict (month, currency id, segment, collector id, stage id) -> sums
        """
        self.env["dunning.customer.kpi"].flush_model()
        sums = SQL(", ").join(
            SQL("SUM((p->>%s)::numeric)", KEY_SIZE + index) for index in range(len(ANALYSIS_SUMS))
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT (p->>0)::date, (p->>1)::int, p->>2, (p->>3)::int, (p->>4)::int, %s
                     FROM dunning_customer_kpi k
                     CROSS JOIN LATERAL jsonb_array_elements(k.analysis_parts->'parts') p
                    WHERE k.company_id = %s AND k.analysis_parts->>'first' = %s
                      AND k.analysis_parts->>'date' = %s AND (p->>0)::date >= %s
                 GROUP BY 1, 2, 3, 4, 5""",
                sums,
                company.id,
                str(first),
                str(run_date),
                first,
            )
        )
        return {
            (month, currency_id or False, segment or False, collector_id or False, level_id): {
                name: int(value) if name in COUNTS else value
                for name, value in zip(ANALYSIS_SUMS, values, strict=True)
            }
            for month, currency_id, segment, collector_id, level_id, *values in rows
        }
