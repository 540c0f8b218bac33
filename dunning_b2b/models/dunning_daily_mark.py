from odoo import api, fields, models


class DunningDailyMark(models.Model):
    """How far each company's daily checks have read the change journal (``dunning.change``)
    and on which day they last ran to the end. The next run works on the customers
    journaled after the mark (and, on a new day, on those whose figures move with the date);
    a second run on the same day with nothing journaled runs no check at all."""

    _name = "dunning.daily.mark"
    _description = "Dunning Daily Checks Done"
    _rec_name = "company_id"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    run_date = fields.Date(string="Checks Run On", help="The day the checks last ran to the end.")
    change_id = fields.Integer(
        string="Journal Read Up To", help="The last change journal entry the checks read."
    )
    change_running = fields.Char(
        string="Transactions Running", help="The transactions still running when they read it."
    )

    ladder_date = fields.Date(
        string="Ladder Run On", help="The day the ladder last evaluated every customer."
    )
    ladder_change_id = fields.Integer(
        string="Ladder Read Up To", help="The journal entry the ladder's plan read up to."
    )
    ladder_running = fields.Char(
        string="Transactions Running (Ladder)",
        help="The transactions still running when the ladder read it.",
    )

    _company_uniq = models.Constraint(
        "unique(company_id)", "A company has one mark of its daily checks."
    )

    @api.model
    def _get_mark(self, company):
        return self.search([("company_id", "=", company.id)], limit=1)

    @api.model
    def _record(self, company, run_date, position):
        """The checks of ``company`` ran on ``run_date`` and read the journal to
        ``position`` (``dunning.change._get_position``)."""
        self._write_mark(company, dict(position, run_date=run_date))

    @api.model
    def _record_ladder(self, company, run_date, position):
        """The ladder planned its run of ``run_date`` having read the journal to
        ``position``: a later run the same day evaluates only customers journaled since."""
        self._write_mark(
            company,
            {
                "ladder_date": run_date,
                "ladder_change_id": position["change_id"],
                "ladder_running": position["change_running"],
            },
        )

    @api.model
    def _write_mark(self, company, vals):
        mark = self._get_mark(company)
        if mark:
            mark.write(vals)
        else:
            self.create(dict(vals, company_id=company.id))
