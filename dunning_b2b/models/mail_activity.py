from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL

from ..tools import value_changes

# Customers: Odoo binds tasks on them to no company.
PARTNER_MODEL = "res.partner"


class MailActivity(models.Model):
    """Tasks of a customer's collections, per company and per stage.

    A task on a customer (``res.partner``) is not bound to a company in Odoo: a customer
    shared by two companies would show, and close, the other company's tasks. Ours say which
    company's collections they are for (``dunning_company_id``), and a stage's tasks which
    stage made them (``dunning_level_id``), so that they are closed once that stage is
    passed or paid.
    """

    _inherit = "mail.activity"

    dunning_company_id = fields.Many2one(
        "res.company",
        string="Collections Company",
        index="btree_not_null",
        readonly=True,
        help="The company whose collections the task on the customer is for.",
    )
    dunning_level_id = fields.Many2one(
        "dunning.level",
        string="Dunning Stage",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The stage that made the task: it is closed once the customer's lines have "
        "passed that stage or are paid.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        self._dunning_check_create(vals_list)
        self._dunning_set_default_company(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            for name in ("dunning_company_id", "dunning_level_id"):
                if name in vals and value_changes(self, name, vals[name]):
                    self._dunning_refuse(name)
        return super().write(vals)

    @api.model
    def _dunning_check_create(self, vals_list):
        """A user makes a task for one of their current companies' collections only; which
        stage made a task is the engine's (the superuser's) to say."""
        if self.env.su:
            return
        context = self.env.context
        for vals in vals_list:
            company_id = vals.get("dunning_company_id", context.get("default_dunning_company_id"))
            if company_id and company_id not in self.env.companies.ids:
                self._dunning_refuse("dunning_company_id")
            if vals.get("dunning_level_id", context.get("default_dunning_level_id")):
                self._dunning_refuse("dunning_level_id")

    @api.model
    def _dunning_refuse(self, name):
        label = self._fields[name]._description_string(self.env)
        raise AccessError(
            self.env._(
                "%(field)s of a task is set by the system (the company the task is made in, "
                "the stage that made it) and cannot be given or changed: leave it out, and "
                "make the task in the company it is for.",
                field=label,
            )
        )

    @api.model
    def _dunning_set_default_company(self, vals_list):
        """A task on a customer is for the company it was made in (the bulk writer does the
        same, dunning.bulk)."""
        context = self.env.context
        partner_model_id = None
        for vals in vals_list:
            if vals.get("dunning_company_id") or context.get("default_dunning_company_id"):
                continue
            # The model may come as a default of the context (the chatter's Activities).
            model = vals.get("res_model") or (
                None if "res_model_id" in vals else context.get("default_res_model")
            )
            model_id = vals.get("res_model_id") or context.get("default_res_model_id")
            if not model and model_id:
                if partner_model_id is None:
                    partner_model_id = self.env["ir.model"]._get_id(PARTNER_MODEL)
                model = PARTNER_MODEL if model_id == partner_model_id else None
            if model == PARTNER_MODEL:
                vals["dunning_company_id"] = self.env.company.id
        return vals_list

    @api.model
    def _dunning_get_company_domain(self, company):
        """Tasks that are ``company``'s (or bound to no company: made before tasks had one)."""
        return Domain("dunning_company_id", "in", [company.id, False])

    @api.model
    def _dunning_get_partner_tasks(self, company, partners, activity_types=None):
        """The open tasks on ``partners`` for ``company``'s collections."""
        domain = (
            Domain("res_model", "=", PARTNER_MODEL)
            & Domain("res_id", "in", partners.ids)
            & self._dunning_get_company_domain(company)
        )
        if activity_types is not None:
            domain &= Domain("activity_type_id", "in", activity_types.ids)
        return self.search(domain)

    @api.model
    def _dunning_close_call_tasks(self, partner, company, date, feedback):
        """A call logged in ``company`` answers the customer's collections calls due by
        ``date`` in that company, and no other company's."""
        call_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
        # sudo: a collector closes the customer's call tasks (whoever they are assigned to)
        # without the right to edit the customer; only ``company``'s are searched.
        tasks = (
            self.sudo()
            ._dunning_get_partner_tasks(company, partner, call_type)
            .filtered(lambda task: task.date_deadline <= date)
        )
        tasks.action_feedback(feedback=feedback)
        return tasks

    # ------------------------------------------------------------ stale stage tasks
    @api.model
    def _dunning_close_obsolete_tasks(self, company, run_date, user, stats, partners=None):
        """Daily step, and at the click for one customer: a stage's task (on the customer or
        on its message to review) whose customer has no open line at that stage any more in
        ``company`` is done, with a note saying why: the lines passed to a later stage, or
        they were paid."""
        tasks = self._dunning_get_stage_tasks(company, partners)
        # A chunk at a time: memory stays bounded by the chunk, not by the number of tasks.
        size = self.env["dunning.engine"]._get_chunk_size()
        for start in range(0, len(tasks), size):
            closed = self._dunning_close_obsolete_chunk(
                company, run_date, user, tasks[start : start + size]
            )
            stats["tasks_closed"] = stats.get("tasks_closed", 0) + closed

    @api.model
    def _dunning_close_passed_tasks(self, company, run_date, user, stats, advances):
        """In the run, as lines enter a stage (``advances``): the tasks of the stages their
        customers left are done ("Run dunning now" closes them too, not only the daily
        step). Tasks of the stages entered now are left alone without reading the lines."""
        entered = {(advance.partner_id, advance.stage_id) for advance in advances}
        partners = self.env["res.partner"].browse({partner_id for partner_id, _ in entered})
        tasks = self._dunning_get_stage_tasks(company, partners)
        partner_of = tasks._dunning_get_task_partners()
        tasks = tasks.filtered(
            lambda task: (partner_of.get(task.id), task.dunning_level_id.id) not in entered
        )
        if tasks:
            closed = self._dunning_close_obsolete_chunk(company, run_date, user, tasks)
            stats["tasks_closed"] = stats.get("tasks_closed", 0) + closed

    @api.model
    def _dunning_close_obsolete_chunk(self, company, run_date, user, tasks):
        partner_of = tasks._dunning_get_task_partners()
        levels_by_partner = self._dunning_get_open_levels(
            company, run_date, set(partner_of.values())
        )
        Level = self.env["dunning.level"].with_context(active_test=False)
        obsolete = defaultdict(lambda: self.browse())
        for task in tasks:
            open_levels = levels_by_partner.get(partner_of.get(task.id), set())
            if task.dunning_level_id.id in open_levels:
                continue
            current = Level.browse(open_levels).sorted(lambda lvl: (lvl.day_offset, lvl.id))[-1:]
            if current and current.day_offset > task.dunning_level_id.day_offset:
                note = self.env._("Stage passed: now %(stage)s", stage=current.name)
            else:
                note = self.env._(
                    "Paid: nothing is open at %(stage)s any more",
                    stage=task.dunning_level_id.name,
                )
            obsolete[note] |= task
        # sudo: the assignee of a stage's task may be someone else than the user; the tasks
        # are done in bulk (hundreds a day on a large ledger), as action_feedback does it.
        bulk = self.env["dunning.bulk"].with_user(user).sudo()
        for note, group in obsolete.items():
            bulk._mark_done(group.with_user(user).sudo(), note)
        return sum(len(group) for group in obsolete.values())

    @api.model
    def _dunning_get_stage_tasks(self, company, partners=None):
        """Open tasks a stage of ``company`` made, on customers (of ``partners``) and on
        their messages to review."""
        domain = Domain("dunning_level_id.company_id", "=", company.id) & Domain(
            "res_model", "in", [PARTNER_MODEL, "dunning.message"]
        )
        if partners is not None:
            messages = self.env["dunning.message"].search(
                [("partner_id", "in", partners.ids), ("company_id", "=", company.id)]
            )
            domain &= (
                Domain("res_model", "=", PARTNER_MODEL) & Domain("res_id", "in", partners.ids)
            ) | (Domain("res_model", "=", "dunning.message") & Domain("res_id", "in", messages.ids))
        return self.search(domain)

    def _dunning_get_task_partners(self):
        """dict task id -> the customer it is about."""
        message_ids = [task.res_id for task in self if task.res_model == "dunning.message"]
        messages = self.env["dunning.message"].browse(message_ids).exists()
        message_partner = {message.id: message.partner_id.id for message in messages}
        return {
            task.id: task.res_id
            if task.res_model == PARTNER_MODEL
            else message_partner.get(task.res_id)
            for task in self
        }

    @api.model
    def _dunning_get_open_levels(self, company, run_date, partner_ids):
        """dict customer id -> the stages of its open receivable lines in ``company``."""
        partner_ids = [pid for pid in partner_ids if pid]
        if not partner_ids:
            return {}
        Line = self.env["dunning.line"]
        Line.flush_model(["move_line_id", "level_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT items.partner_id, dl.level_id
                     FROM (%s) items
                     JOIN dunning_line dl ON dl.move_line_id = items.line_id
                    WHERE dl.level_id IS NOT NULL""",
                Line._get_open_items_query(company, run_date, partner_ids, credits=False),
            )
        )
        levels = defaultdict(set)
        for partner_id, level_id in rows:
            levels[partner_id].add(level_id)
        return levels
