from markupsafe import Markup

from odoo import models

from .dunning_promise import dunning_today


class DunningResolution(models.Model):
    """What a closed case (any resolution) tells about the customer: high risk, the segment
    pinned, and a credit review for the collections manager."""

    _inherit = "dunning.resolution"

    def _feed_back_outcome(self):
        """What a closed case says about the customer: high risk (the segment pinned, the
        daily job keeps it) and a credit review for the collections manager."""
        labels = dict(
            self.env["res.partner"]._fields["dunning_segment"]._description_selection(self.env)
        )
        outcomes = dict(self._fields["resolution_type"]._description_selection(self.env))
        today = dunning_today(self.env)
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        events, activities = [], []
        for case in self.filtered(lambda c: c.state == "done"):
            company = case.company_id
            # sudo: the customer's collections fields in the case's company, set by the
            # system from the case's outcome
            partner = case.partner_id.sudo().with_company(company)
            before = partner.dunning_segment
            size = "large" if before and before.endswith("_large") else "small"
            after = f"high_{size}"
            if before != after or not partner.dunning_segment_pinned:
                partner.write({"dunning_segment": after, "dunning_segment_pinned": True})
            outcome = outcomes[case.resolution_type]
            note = self.env._(
                "%(outcome)s: %(written)s written off, %(recovered)s recovered. Segment "
                "%(before)s → %(after)s (pinned); review the credit terms and limit.",
                outcome=outcome,
                written=case.currency_id.format(case.amount_written_off),
                recovered=case.currency_id.format(case.amount_recovered),
                before=labels.get(before, "-"),
                after=labels[after],
            )
            base = {
                "date": today,
                "partner_id": case.partner_id.id,
                "company_id": company.id,
                "user_id": self.env.uid,
                "note": note,
                "resolution_id": case.id,
            }
            events += [dict(base, event_type="segment"), dict(base, event_type="credit_review")]
            # sudo: the company's collections manager among the group's members
            manager = company.sudo()._dunning_get_manager().sudo(False) or case.owner_id
            activities.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": case.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._("Credit review: %(name)s", name=case.partner_id.name),
                    "note": Markup("<p>%s</p>") % note,
                    "user_id": (manager or self.env.user).id,
                    "date_deadline": today,
                    "dunning_company_id": company.id,
                }
            )
        if events:
            # sudo: the audit trail and the manager's task are written by the system
            self.env["dunning.event"].sudo().create(events)
            self.env["dunning.engine"].sudo()._create_activities(activities)

    def action_done(self):
        """Closing a case (agency, legal) feeds its outcome back into the customer's risk."""
        result = super().action_done()
        self._feed_back_outcome()
        return result
