from odoo import models


class DunningCompanyCheck(models.AbstractModel):
    """Company consistency of linked records checked a company at a time.

    Odoo checks each new record's links one record at a time (a domain filter per record and
    field): 0.47 s of a 14.4 s run that creates 5,582 messages, 1,990 holds, 1,621 links and
    976 resolutions. Here the links of all records of one company are filtered at once,
    against the same domain; a batch with any inconsistency is checked again by Odoo's own
    code, whose error names the record, the field and the companies."""

    _name = "dunning.company.check"
    _description = "Dunning Company Check"

    def _check_company(self, fnames=None):
        if len(self) < 2:
            return super()._check_company(fnames)
        if fnames is None or {"company_id", "company_ids"} & set(fnames):
            fnames = self._fields
        fields = [self._fields[name] for name in fnames]
        checked = [field.name for field in fields if field.relational and field.check_company]
        if (
            any(self._fields[name].company_dependent for name in checked)
            or "company_id" not in self
        ):
            return super()._check_company(fnames)
        # sudo: as Odoo's check, the linked records are read whoever may see them
        for company, records in self.sudo().grouped("company_id").items():
            for name in checked:
                linked = records[name]
                if not linked:
                    continue
                domain = linked._check_company_domain(company)
                if domain and linked != linked.with_context(active_test=False).filtered_domain(
                    domain
                ):
                    return super()._check_company(fnames)
        return None
