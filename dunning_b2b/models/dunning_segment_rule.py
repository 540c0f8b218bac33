from collections import Counter

from odoo import api, fields, models

from ..tools import check_collectors, valid_collectors
from .res_partner import SEGMENTS


class DunningSegmentRule(models.Model):
    """What a segment means in a company: its ladder and who chases its customers."""

    _name = "dunning.segment.rule"
    _description = "Collections Segment Rule"
    _order = "company_id, segment"
    _check_company_auto = True
    _rec_name = "segment"

    segment = fields.Selection(SEGMENTS, required=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    policy_id = fields.Many2one(
        "dunning.policy",
        string="Ladder",
        check_company=True,
        help="Ladder of the segment's customers that have no policy of their own. "
        "Empty: the company's default.",
    )
    collector_ids = fields.Many2many(
        "res.users",
        "dunning_segment_rule_collector_rel",
        "rule_id",
        "user_id",
        string="Collectors",
        domain=[("share", "=", False)],
        help="The team that chases the segment's customers. A customer without a collector "
        "gets the team member with the fewest customers, and keeps that collector.",
    )
    active = fields.Boolean(default=True)

    _segment_company_uniq = models.Constraint(
        "UNIQUE(segment, company_id)",
        "Each segment has one rule per company.",
    )

    @api.constrains("collector_ids", "company_id")
    def _check_collector_ids(self):
        label = self._fields["collector_ids"]._description_string(self.env)
        for rule in self:
            check_collectors(rule.collector_ids, rule.company_id, label)

    @api.model
    def _get_rules(self, company):
        """segment key -> rule of ``company``."""
        rules = self.search([("company_id", "=", company.id)])
        return {rule.segment: rule for rule in rules}

    @api.model
    def _assign_default_collectors(self, company, partners):
        """Give customers of ``partners`` without a collector in ``company`` one of the team
        of their segment, the least loaded first, and write it on the customer so it stays.

        :return: the partners that got a collector
        """
        partners = partners.with_company(company)
        # A member archived or moved out of the company since takes no new customers.
        teams = {
            segment: valid_collectors(rule.collector_ids, company)
            for segment, rule in self._get_rules(company).items()
        }
        todo = partners.filtered(
            lambda p: not p.dunning_collector_id and teams.get(p.dunning_segment)
        )
        if not todo:
            return todo
        team = todo.mapped(lambda p: teams[p.dunning_segment])
        load = Counter(dict.fromkeys(team, 0))
        assigned = (
            self.env["res.partner"]
            .with_company(company)
            .search_fetch([("dunning_collector_id", "in", team.ids)], ["dunning_collector_id"])
        )
        load.update(partner.dunning_collector_id for partner in assigned)
        chosen = {}
        for partner in todo.sorted("id"):
            members = teams[partner.dunning_segment].sorted("id")
            user = min(members, key=lambda u: (load[u], u.id))
            load[user] += 1
            chosen.setdefault(user, self.env["res.partner"])
            chosen[user] |= partner
        for user, group in chosen.items():
            group.with_company(company).with_context(dunning_from_job=True).write(
                {"dunning_collector_id": user.id}
            )
        return todo
