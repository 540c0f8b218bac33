import logging
import uuid
from collections import Counter
from contextlib import contextmanager

from markupsafe import Markup

from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..tools import forget_run_memo, positive_int_param
from .dunning_promise import dunning_today

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
# Customers per chunk of the daily checks that read every customer (worklist, hold lifts,
# KPI figures): memory is bounded by a chunk.
CHUNK_SIZE = 1000


class DunningEngine(models.AbstractModel):
    """The one entry point of the dunning run: the daily cron, "Run dunning now" and the
    tests all call :meth:`_run`.

    Decisions come from :mod:`odoo.addons.dunning_b2b.engine`; this layer gathers what they
    need set-wise, one batch of customers at a time, and writes the results in bulk.
    """

    _name = "dunning.engine"
    _description = "Dunning Engine"

    @api.model
    def _cron_run(self):
        """Daily job: every company, every open receivable line, committed per batch; the
        extra worker crons join the run (as many as Odoo has cron threads to run them)."""
        self._run(commit=True)

    @api.model
    def _action_run(self, moves=None, partners=None):
        """ "Run dunning now" on selected invoices or customers, in the user's transaction."""
        if not self.env.user.has_group("dunning_b2b.group_dunning_user"):
            raise AccessError(
                self.env._("Only collections users can run dunning. Ask a dunning manager.")
            )
        records = moves if moves is not None else partners
        records.check_access("read")
        # Only the companies the user works in: sudo below must not reach a shared
        # customer's documents in another company.
        companies = self.env.companies
        if moves is not None:
            companies &= moves.company_id
        # sudo: writes beyond a collector's rights; records checked, run in env.companies
        stats = self.sudo()._run(
            moves=moves and moves.sudo(),
            partners=partners and partners.sudo(),
            companies=companies.sudo(),
            user=self.env.user,
        )
        # The worklist shows at once what the run did to these customers.
        touched = moves.commercial_partner_id if moves is not None else partners
        today = dunning_today(self.env)
        for company in companies:
            # sudo: the engine's rows of the customers just run, in that company alone.
            Worklist = self.env["dunning.worklist"].sudo()
            Worklist.with_context(allowed_company_ids=company.ids)._refresh(
                company, today, self.env.user, partners=touched, checks=False
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Dunning run"),
                "message": self._format_stats(stats),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _format_stats(self, stats):
        return self.env._(
            "%(advanced)s open item(s) moved to a new stage, %(emails)s email(s) queued, "
            "%(drafts)s message(s) to review, %(tasks)s task(s) created.",
            advanced=stats["advanced"],
            emails=stats["emails"],
            drafts=stats["drafts"],
            tasks=stats["activities"],
        )

    # ------------------------------------------------------------------ run
    @api.model
    def _run(
        self, run_date=None, moves=None, partners=None, companies=None, commit=False, user=None
    ):
        """Evaluate the open receivable lines of customers and act on those entering a new
        stage; a full run (no ``moves``, no ``partners``) then runs each company's daily
        checks (:meth:`_get_daily_steps`), in that order.

        :param run_date: the day evaluated (default: today)
        :param moves: restrict the run to the open lines of these documents
        :param partners: restrict the run to these customers (commercial partners)
        :param companies: restrict the run to these companies (default: all)
        :param commit: commit after each batch (cron only)
        :param user: who the audit trail names (default: the environment's user)
        :return: Counter of what the run did
        """
        run_date = run_date or dunning_today(self.env)
        user = user or self.env.user
        with self._running() as engine:
            return engine._run_plan(run_date, moves, partners, companies, commit, user)

    @contextmanager
    def _running(self):
        """The engine as a run uses it: the audit trail is the engine's own events (no
        tracking or creation logs on top), and what a run memoises is forgotten after it."""
        run_id = self.env.context.get("dunning_run_id") or uuid.uuid4().hex
        try:
            yield self.with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                dunning_run_id=run_id,
            )
        finally:
            forget_run_memo(run_id)

    def _run_plan(self, run_date, moves, partners, companies, commit, user):
        if moves is None and partners is None:
            # The full run: batches shared by every worker taking part (dunning.run).
            return self._run_worker(run_date, commit=commit, companies=companies, user=user)
        if companies is None:
            companies = moves.company_id if moves else self.env["res.company"].search([])
        batch_size = self._get_batch_size()
        stats = Counter()
        for company in companies:
            partner_ids = self._get_candidate_partner_ids(company, run_date, moves, partners)
            for start in range(0, len(partner_ids), batch_size):
                batch = partner_ids[start : start + batch_size]
                self._in_company(company)._run_batch_safely(
                    company, batch, run_date, moves, user, stats
                )
                stats["customers"] += len(batch)
        _logger.info("Dunning run of %s: %s", run_date, dict(stats))
        return stats

    @api.model
    def _in_company(self, company):
        """``self`` working in ``company`` alone: ``env.company`` and ``env.companies`` are
        that company, whatever companies the caller had selected."""
        return self.with_context(allowed_company_ids=company.ids)

    @api.model
    def _get_daily_steps(self):
        """The daily checks of a company after its lines were evaluated, in the order they
        run: what decides pauses and holds first, then the worklist and the KPIs that show
        the result. Each step is (label, model, method); the method is called as
        ``method(company, run_date, user, stats)``. Extend this list to add a step. A step
        that reads a column of ``dunning_change.QUIET_COLUMNS`` must take it out of that list:
        a change of those columns alone is not journaled."""
        return [
            ("promises", "dunning.promise", "_check_due_promises"),
            ("disputes", "dunning.dispute", "_check_deadlines"),
            ("call tasks", "dunning.message", "_create_call_tasks"),
            ("credit tasks", "dunning.stage.entry", "_close_stale_credit_tasks"),
            ("stage tasks", "mail.activity", "_dunning_close_obsolete_tasks"),
            ("hold lifts", "dunning.credit.hold", "_lift_cleared"),
            ("credit limits", "dunning.credit.hold", "_apply_credit_limits"),
            ("settlements", "dunning.resolution", "_check_settlements"),
            ("resolutions", "dunning.resolution", "_propose_from_ladder"),
            ("provisions", "dunning.provision", "_propose_booking"),
            ("charges", "dunning.charge", "_charge_from_ladder"),  # issue 14
            ("worklist", "dunning.worklist", "_refresh_daily"),
            ("profiles", "dunning.engine", "_refresh_profiles"),
            ("kpis", "dunning.engine", "_refresh_kpis"),
        ]

    def _run_daily_steps(self, company, run_date, user, stats, steps=None, partners=None):
        """Run the company's daily ``steps`` (default: all of :meth:`_get_daily_steps`), each
        in a savepoint of its own: a failing step is rolled back alone and reported, and the
        next step still runs. ``partners``: the customers the customer steps work on.

        :return: whether every step succeeded
        """
        succeeded = True
        for label, model, method in steps if steps is not None else self._get_daily_steps():
            args = (company, run_date, user, stats)
            try:
                with self.env.cr.savepoint():
                    if partners is not None:
                        getattr(self.env[model], method)(*args, partners=partners)
                    else:
                        getattr(self.env[model], method)(*args)
                # Each step reads what it needs: what the last one read is not kept in memory.
                self.env.invalidate_all()
            except Exception as error:  # reported, and the other steps go on
                _logger.exception("Dunning daily step %s failed for %s", label, company.name)
                stats["failed_steps"] += 1
                succeeded = False
                self._report_step_failure(company, label, run_date, user, error)
        return succeeded

    def _report_step_failure(self, company, label, run_date, user, error):
        manager = company._dunning_get_manager()
        text = self.env._(
            "The daily dunning check %(step)s failed for %(company)s and will run again "
            "tomorrow: %(error)s",
            step=label,
            company=company.name,
            error=error,
        )
        self.env["dunning.event"]._create_bulk(
            [
                {
                    "event_type": "error",
                    "date": run_date,
                    "partner_id": company.partner_id.id,
                    "company_id": company.id,
                    "user_id": user.id,
                    "note": text,
                }
            ]
        )
        if manager:
            manager.partner_id.message_notify(
                partner_ids=manager.partner_id.ids,
                subject=self.env._("Dunning daily check failed"),
                body=Markup("<p>%s</p>") % text,
            )

    def _refresh_profiles(self, company, run_date, user, stats, partners=None):
        # sudo: KPI snapshots are company figures the engine writes; this step runs in company alone
        Kpi = self.env["dunning.kpi"].sudo()
        ids = Kpi._get_profile_scope(company, run_date) if partners is None else partners.ids
        Kpi._refresh_profiles(company, run_date, ids)
        stats["profiles_refreshed"] += len(ids)

    def _refresh_kpis(self, company, run_date, user, stats):
        # sudo: KPI snapshots are company figures the engine writes; this step runs in company alone
        self.env["dunning.kpi"].sudo()._refresh_totals(company, run_date)
        stats["kpi_refreshed"] += 1

    @api.model
    def _get_batch_size(self):
        return positive_int_param(self.env, "dunning_b2b.batch_size", DEFAULT_BATCH_SIZE)

    @api.model
    def _get_chunk_size(self):
        return CHUNK_SIZE

    @api.model
    def _get_candidate_partner_ids(self, company, run_date, moves=None, partners=None):
        """Customers with open receivable debits in ``company`` (of ``moves``, or among
        ``partners``), by id."""
        query = self.env["dunning.line"]._get_open_items_query(
            company,
            run_date,
            partner_ids=partners.ids if partners is not None else None,
            move_ids=moves.ids if moves is not None else None,
            credits=False,
        )
        rows = self.env.execute_query(
            SQL("SELECT DISTINCT partner_id FROM (%s) items ORDER BY 1", query)
        )
        return [row[0] for row in rows]

    def _run_batch_safely(self, company, partner_ids, run_date, moves, user, stats):
        """Run a batch in a savepoint; if it fails, run its customers one by one so that one
        customer's failure (bad data, a bug, a lost lock) rolls back that customer alone, is
        reported on it, and the run goes on for everyone else."""
        Ladder = self.env["dunning.ladder"]
        Bulk = self.env["dunning.bulk"]
        batch_stats = Counter()
        try:
            with self.env.cr.savepoint(), Bulk._merging_notes():
                Ladder._run_batch(company, partner_ids, run_date, moves, user, batch_stats)
        except Exception:  # noqa: BLE001 - isolate the failing customer(s) below
            _logger.info("Dunning batch of %s customers failed: one by one", len(partner_ids))
        else:
            stats.update(batch_stats)
            return
        for partner_id in partner_ids:
            customer_stats = Counter()
            try:
                with self.env.cr.savepoint(), Bulk._merging_notes():
                    Ladder._run_batch(company, [partner_id], run_date, moves, user, customer_stats)
            except Exception as error:  # noqa: BLE001 - reported on the customer
                _logger.warning("Dunning run failed for customer %s: %s", partner_id, error)
                stats["failed_customers"] += 1
                self._report_customer_failure(company, partner_id, run_date, user, error)
            else:
                stats.update(customer_stats)

    def _report_customer_failure(self, company, partner_id, run_date, user, error):
        partner = self.env["res.partner"].browse(partner_id)
        # The next run of the day tries the customer again.
        self.env["dunning.change"]._journal(company, [partner_id])
        text = self.env._(
            "The dunning run failed for this customer and will try again: %(error)s", error=error
        )
        self.env["dunning.event"]._create_bulk(
            [
                {
                    "event_type": "error",
                    "date": run_date,
                    "partner_id": partner_id,
                    "company_id": company.id,
                    "user_id": user.id,
                    "note": text,
                }
            ]
        )
        collector = self._get_collectors(company, partner)[partner_id]
        partner.activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_todo",
            summary=self.env._("Dunning run failed for this customer"),
            note=Markup("<p>%s</p>") % text,
            user_id=collector.id or self.env.uid,
        )

    @api.model
    def _get_partner_policies(self, company, partners, segments=None):
        """Policy of each customer in ``company``: its own if valid there, else its segment's
        ladder (``segments``: partner id -> segment, instead of the stored one), else the
        default."""
        default = company._dunning_get_default_policy()
        rules = self.env["dunning.segment.rule"]._get_rules(company)
        result = {}
        partners = partners.with_company(company)
        # These fields alone: a partner's whole row (its company-dependent accounting fields
        # each with a subquery) was 4 s of a 100,000-line run.
        partners.fetch(["dunning_policy_id"] + (["dunning_segment"] if segments is None else []))
        for partner in partners:
            policy = partner.dunning_policy_id
            segment = segments[partner.id] if segments is not None else partner.dunning_segment
            rule = rules.get(segment)
            if not (policy and policy.active and policy.company_id == company) and rule:
                policy = rule.policy_id
            valid = policy and policy.active and policy.company_id == company
            result[partner.id] = policy if valid else default
        return result

    @api.model
    def _get_author(self, company):
        """Who the engine's chatter notes are from: the company."""
        return company.partner_id

    @api.model
    def _get_collectors(self, company, partners):
        """Who gets each customer's tasks: its collector (given by its segment's team if it
        had none), the company's, or a dunning manager."""
        self.env["dunning.segment.rule"]._assign_default_collectors(company, partners)
        fallback = company.dunning_collector_id
        if not fallback:
            managers = self.env.ref("dunning_b2b.group_dunning_manager").user_ids.filtered(
                lambda u: company in u.company_ids and not u.share and u.active
            )
            fallback = managers.sorted("id")[:1]
        partners = partners.with_company(company)
        partners.fetch(["dunning_collector_id"])  # not the whole rows
        return {partner.id: partner.dunning_collector_id or fallback for partner in partners}

    @api.model
    def _get_recipients(self, partner, moves):
        """Billing contacts with an email: the invoices' addresses and the invoice contacts."""
        contacts = moves.partner_id | partner.child_ids.filtered(
            lambda c: c.type == "invoice" and c.active
        )
        recipients = contacts.filtered("email")
        if not recipients and partner.email:
            recipients = partner
        return recipients

    @api.model
    def _get_all_billing_contacts(self, partner):
        """Every active contact of the customer with an email, the customer included."""
        contacts = partner | partner.child_ids.filtered(
            lambda c: c.active and c.type in ("invoice", "contact")
        )
        return contacts.filtered("email")

    @api.model
    def _get_task_assignee(self, company, level, collector):
        """Who gets a stage's task: the stage's own person, the collections manager for
        senior stages, else the customer's collector."""
        if level.activity_user_id:
            return level.activity_user_id
        if level.activity_to_manager:
            return company._dunning_get_manager() or collector
        return collector

    # ------------------------------------------------ bulk writers (dunning.bulk)
    @api.model
    def _log_notes(self, model, bodies, author):
        return self.env["dunning.bulk"]._log_notes(model, bodies, author)

    @api.model
    def _create_activities(self, vals_list):
        return self.env["dunning.bulk"]._create_activities(vals_list)

    def _notify_salespersons(self, to_notify):
        """One digest per salesperson and batch: which of their customers reached which stage.

        :param to_notify: dict res.users -> list of (customer, stage, invoices)
        """
        for salesperson, items in to_notify.items():
            lines = Markup("").join(
                Markup("<li>%s</li>")
                % self.env._(
                    "%(customer)s reached %(stage)s for %(invoices)s",
                    customer=partner.name,
                    stage=level.name,
                    invoices=", ".join(moves.mapped("name")),
                )
                for partner, level, moves in items
            )
            salesperson.partner_id.message_notify(
                partner_ids=salesperson.partner_id.ids,
                subject=self.env._("Your customers in collections"),
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    self.env._(
                        "Collections handles the contact with these customers; please do not "
                        "promise new terms without them."
                    ),
                    lines,
                ),
            )
