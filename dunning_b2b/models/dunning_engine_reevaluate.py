from collections import Counter, defaultdict

from odoo import api, models

from .dunning_promise import dunning_today


class DunningEngine(models.AbstractModel):
    """At the click: a collector's or a manager's action on a customer (a call, a promise, a
    dispute, a hold decision, a payment) re-evaluates that customer in that company at once,
    with the engine's own per-customer path, not at tomorrow's run."""

    _inherit = "dunning.engine"

    @api.model
    def _reevaluate(self, records, ladder=True):
        """Re-evaluate the customers of ``records`` (anything with ``partner_id`` and
        ``company_id``: promises, disputes, holds, worklist rows, receivable lines), each in
        its record's company: the ladder for those customers (stage, pause; what a stage
        sends follows the engine's rules, as in the daily run), the stage holds their lines
        no longer call for, the tasks their stages made obsolete, and their worklist rows.

        :param ladder: run the ladder too (a payment only needs the rest: paying moves no
            line forward)
        """
        if self.env.context.get("dunning_run_id") or not self.env.registry.ready:
            return  # inside a run (it does all this itself) or while modules load
        by_company = defaultdict(set)
        for record in records:
            partner = record.partner_id.commercial_partner_id
            if partner and record.company_id:
                by_company[record.company_id].add(partner.id)
        for company, partner_ids in by_company.items():
            partners = self.env["res.partner"].browse(sorted(partner_ids))
            self._reevaluate_customers(company, partners, ladder=ladder)

    @api.model
    def _reevaluate_customers(self, company, partners, ladder=False):
        """Re-evaluate ``partners`` (commercial partners) in ``company``: see
        :meth:`_reevaluate`."""
        run_date = dunning_today(self.env)
        # What a payer on the portal or the public page sets off is the system's doing.
        user = self.env.ref("base.user_root") if self.env.user.share else self.env.user
        # sudo: the engine writes line states, events, holds, tasks and rows that the
        # user's own rights do not all cover; the user acted on these customers' records
        # of this company, and the run stays within this company.
        engine = self.sudo().with_company(company)
        partners = partners.with_env(engine.env)
        if ladder:
            engine._run(run_date=run_date, partners=partners, companies=company, user=user)
        engine._reevaluate_steps(company, run_date, user, partners)

    def _reevaluate_steps(self, company, run_date, user, partners):
        """The daily steps that decide a customer's holds, tasks and row, for ``partners``."""
        stats = Counter()
        # A payment may complete an agreed settlement: settled before the holds are decided.
        self.env["dunning.resolution"]._check_settlements(
            company, run_date, user, stats, partners=partners
        )
        Hold = self.env["dunning.credit.hold"]
        Hold._lift_cleared(company, run_date, user, stats, partners=partners)
        Hold._apply_credit_limits(company, run_date, user, stats, partners=partners)
        self.env["mail.activity"]._dunning_close_obsolete_tasks(
            company, run_date, user, stats, partners=partners
        )
        Worklist = self.env["dunning.worklist"]
        Worklist._refresh(company, run_date, user, partners=partners, checks=False)
        # A customer with nothing open any more leaves the worklist, as at the daily run.
        open_ids = set(Worklist._get_open_figures(company, run_date, partner_ids=partners.ids))
        Worklist.search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", partners.ids),
                ("partner_id", "not in", list(open_ids)),
            ]
        ).unlink()
        return stats
