from datetime import date

from markupsafe import Markup

from odoo import api, models
from odoo.fields import Command

from .dunning_resolution import OPEN_STATES


class DunningResolution(models.Model):
    """The ladder's part: lines that reach a stage calling for a final resolution are
    proposed to a dunning manager as a case to decide (one draft per customer and company,
    which gathers the customer's new lines until it is decided)."""

    _inherit = "dunning.resolution"

    @api.model
    def _propose_from_ladder(self, company, run_date, user, stats, partners=None):
        """Daily step: a draft case for each customer (of ``partners``) with open lines at
        such a stage and in no case yet, and a task for the manager who decides."""
        levels = self.env["dunning.level"].search(
            [("company_id", "in", (company.id, False)), ("propose_resolution", "=", True)]
        )
        if not levels:
            return
        lines = self.env["dunning.line"].search(
            [
                ("company_id", "=", company.id),
                ("level_id", "in", levels.ids),
                ("is_open", "=", True),
            ]
            + ([("partner_id", "in", partners.ids)] if partners is not None else [])
        )
        taken = self.search(
            [("company_id", "=", company.id), ("state", "in", OPEN_STATES),
             ("line_ids", "in", lines.move_line_id.ids)]
        ).line_ids  # fmt: skip
        declined = self.env["account.move.line"].browse(
            self._get_declined_line_ids(
                company, {line.move_line_id.id: line.level_date for line in lines}
            )
        )
        new = lines.move_line_id - taken - declined
        if not new:
            return
        drafts = {
            case.partner_id.id: case
            for case in self.search(
                [("company_id", "=", company.id), ("state", "=", "draft"),
                 ("partner_id", "in", new.partner_id.commercial_partner_id.ids)]
            )
        }  # fmt: skip
        owner = self._get_default_owner(company)
        vals_list = []
        for partner, partner_lines in new.grouped(
            lambda line: line.partner_id.commercial_partner_id
        ).items():
            case = drafts.get(partner.id)
            if case:
                # The draft gathers the new lines and lets go of those paid since.
                paid = case.line_ids.filtered(lambda line: line.reconciled)
                case.line_ids = [Command.unlink(line.id) for line in paid] + [
                    Command.link(line.id) for line in partner_lines
                ]
                continue
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "owner_id": owner.id,
                    "line_ids": [Command.set(partner_lines.ids)],
                    "origin": "ladder",
                }
            )
        # One create and one INSERT of tasks for all the proposals of the run.
        created = self.with_company(company).create(vals_list)
        summary = self.env._("Decide the final resolution")
        note = Markup("<p>%s</p>") % self.env._(
            "Agency, legal action, negotiated settlement or write-off: choose the "
            "resolution and open the case."
        )
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["dunning.engine"]._create_activities(
            [
                {
                    "res_model_id": model_id,
                    "res_id": case.id,
                    "activity_type_id": activity_type.id,
                    "summary": summary,
                    "note": note,
                    "user_id": (owner or user).id,
                    "date_deadline": run_date,
                    "dunning_company_id": company.id,
                }
                for case in created
            ]
        )
        stats["resolutions_proposed"] = stats.get("resolutions_proposed", 0) + len(created)

    @api.model
    def _get_declined_line_ids(self, company, level_dates):
        """The receivable lines of ``level_dates`` (line id -> the day it reached its stage)
        that a manager declined: a case of theirs was cancelled on or after that day. They
        are not proposed again while they stay where they are; lines that reached their
        stage after the cancellation come back."""
        if not level_dates:
            return set()
        cancelled = self.search(
            [("company_id", "=", company.id), ("state", "=", "cancelled"),
             ("line_ids", "in", list(level_dates))]
        )  # fmt: skip
        # One pass over the cancelled cases, not one per line: the day each line's case was
        # last cancelled.
        cancelled_on = {}
        for case in cancelled.filtered("date_done"):
            for line_id in case.line_ids.ids:
                cancelled_on[line_id] = max(case.date_done, cancelled_on.get(line_id, date.min))
        return {
            line_id
            for line_id, level_date in level_dates.items()
            if line_id in cancelled_on and cancelled_on[line_id] >= (level_date or date.min)
        }

    @api.model
    def _get_declined_entries(self, company, groups, run_date):
        """Of the lines entering their stage on ``run_date`` (``groups``: (customer id, stage
        id) -> line ids), those at a stage proposing a case that a manager already declined:
        no case comes for them, so the stage gives its own task."""
        Level = self.env["dunning.level"]
        return self._get_declined_line_ids(
            company,
            {
                line_id: run_date
                for (_partner_id, level_id), line_ids in groups.items()
                if Level.browse(level_id).propose_resolution
                for line_id in line_ids
            },
        )

    @api.model
    def _get_default_owner(self, company):
        """Who decides proposed cases: the company's collections manager if set, else the
        first dunning manager of the company."""
        return company._dunning_get_manager()
