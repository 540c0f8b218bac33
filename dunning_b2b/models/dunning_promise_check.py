from markupsafe import Markup, escape

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, format_date

from ..engine import BROKEN, KEPT, PromiseState, decide_promise
from ..engine.promise import promise_paid
from ..tools import (
    check_recorded_create,
    check_recorded_write,
    check_state_create,
    check_state_write,
    value_changes,
)
from .dunning_promise import dunning_today


class DunningPromise(models.Model):
    """The daily check of open promises: kept when paid, broken when their date passed
    unpaid. What was paid is read from the open receivable lines of the covered documents.
    A collector may also decide an open promise by hand (Mark as Kept, Mark as Broken)."""

    _inherit = "dunning.promise"

    @api.model
    def _get_guarded_fields(self):
        """The state and what decides it: changed by the daily check and the buttons only."""
        how = self.env._(
            "use the Mark as Kept or Mark as Broken button (or Cancel Promise); the daily "
            "run keeps or breaks promises from the payments."
        )
        return dict.fromkeys(("state", "amount_paid", "amount_open_start"), how)

    @api.model_create_multi
    def create(self, vals_list):
        check_state_create(self, vals_list, self._get_guarded_fields(), {"state": "open"})
        check_recorded_create(
            self, vals_list, {"user_id": self.env.uid, "date": dunning_today(self.env)}
        )
        default_extension = self.env.context.get("default_extension_date")
        if any(vals.get("extension_date", default_extension) for vals in vals_list):
            self._check_can_extend()
        promises = super().create(vals_list)
        promises.filtered("extension_date")._log_extension()
        return promises

    def write(self, vals):
        check_state_write(self, vals, self._get_guarded_fields())
        check_recorded_write(self, vals, ("user_id", "date"))
        self._check_terms_write(vals)
        if "extension_date" in vals:
            self._check_can_extend()
            if any(promise.state != "open" for promise in self) and not self.env.su:
                raise UserError(
                    self.env._(
                        "Extended Until: only an open promise can be extended; record a new "
                        "promise instead."
                    )
                )
        res = super().write(vals)
        if vals.get("extension_date"):
            self._log_extension()
        return res

    @api.model
    def _get_term_fields(self):
        """What was promised: fixed once the promise is recorded (what was open then is
        measured on these invoices, for this amount and day)."""
        return ("move_ids", "amount", "promise_date", "partner_id", "company_id", "currency_id")

    def _check_terms_write(self, vals):
        """The terms of a recorded promise do not change, for anyone but the superuser: a
        promise on other invoices, for another amount or day is a new promise (a manager
        extends one with Extended Until)."""
        if self.env.su:
            return
        for name in self._get_term_fields():
            if name in vals and value_changes(self, name, vals[name]):
                label = self._fields[name]._description_string(self.env)
                if any(promise.state != "open" for promise in self):
                    raise UserError(
                        self.env._(
                            "%(field)s: a kept, broken or cancelled promise is history and "
                            "cannot be changed. Record a new promise instead.",
                            field=label,
                        )
                    )
                raise AccessError(
                    self.env._(
                        "%(field)s of a recorded promise cannot be changed: cancel it and "
                        "record a new promise; a manager extends it with Extended Until.",
                        field=label,
                    )
                )

    @api.model
    def _check_can_extend(self):
        """Only a dunning manager extends a promise, when recording it too."""
        if not self.env.su and not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            raise AccessError(
                self.env._(
                    "Extended Until: only a dunning manager can extend a promise. Ask a "
                    "manager, or record a new promise with the customer."
                )
            )

    def _log_extension(self):
        self._log_dunning(
            "promise_extended",
            lambda p: self.env._(
                "Promise extended until %(date)s for the remainder of %(remainder)s, by %(user)s.",
                date=format_date(self.env, p.extension_date),
                remainder=p.currency_id.format(p.amount_remaining),
                user=self.env.user.name,
            ),
        )

    # ------------------------------------------------------------- actions
    def action_mark_kept(self):
        """Kept by hand: e.g. the customer paid and the payment is not in the books yet."""
        return self._mark_by_hand(KEPT)

    def action_mark_broken(self):
        """Broken by hand: e.g. the customer said they will not pay by the promised date."""
        return self._mark_by_hand(BROKEN)

    def _mark_by_hand(self, state):
        if any(promise.state != "open" for promise in self):
            raise UserError(
                self.env._(
                    "Only an open promise can be marked as kept or broken; this one is "
                    "already decided."
                )
            )
        self.check_access("write")
        user = self.env.user
        lines = self._get_open_lines()
        # sudo: the user's right to change these promises was checked above; the state and
        # what was paid are written as the daily check writes them.
        promises = self.sudo()
        for promise in promises:
            open_now = promise._sum_lines(lines.get(promise.id, []))
            paid = promise.currency_id.round(promise_paid(promise.amount_open_start, open_now))
            promise.write({"state": state, "amount_paid": paid})

        def sentence(promise):
            values = {
                "user": user.name,
                "paid": promise.currency_id.format(promise.amount_paid),
                "amount": promise.currency_id.format(promise.amount),
                "date": format_date(self.env, promise.extension_date or promise.promise_date),
            }
            if state == KEPT:
                return self.env._(
                    "Promise marked as kept by %(user)s: %(paid)s paid so far towards the "
                    "%(amount)s promised by %(date)s.",
                    **values,
                )
            return self.env._(
                "Promise marked as broken by %(user)s: %(paid)s paid towards the %(amount)s "
                "promised by %(date)s. Dunning resumes at the stage the invoices' age calls for.",
                **values,
            )

        promises._log_dunning(f"promise_{state}", sentence, user=user, date=dunning_today(self.env))
        self.env["dunning.engine"]._reevaluate(promises)
        return True

    @api.model
    def _get_due_check_domain(self, company):
        """Promises the daily check looks at."""
        return [("company_id", "=", company.id), ("state", "=", "open")]

    @api.model
    def _check_due_promises(self, company, run_date, user, stats):
        """Daily check: promises paid in full are kept, promises past their date unpaid are
        broken (with a task to phone the customer); the rest stay open."""
        promises = self.search(self._get_due_check_domain(company))
        if not promises:
            return
        promises.fetch(["amount", "promise_date", "extension_date", "amount_open_start"])
        lines = promises._get_open_lines()
        kept = broken = self.browse()
        for promise in promises:
            decision = decide_promise(
                PromiseState(
                    promise_id=promise.id,
                    amount=promise.amount,
                    promise_date=promise.promise_date,
                    open_at_start=promise.amount_open_start,
                    open_now=promise._sum_lines(lines.get(promise.id, [])),
                    extension_date=promise.extension_date or None,
                ),
                run_date,
                rounding=promise.currency_id.rounding,
            )
            if float_compare(
                decision.paid, promise.amount_paid, precision_rounding=promise.currency_id.rounding
            ):
                promise.amount_paid = decision.paid
            if decision.state == KEPT:
                kept |= promise
            elif decision.state == BROKEN:
                broken |= promise
        if kept:
            kept.state = "kept"
            kept._log_dunning(
                "promise_kept",
                lambda p: self.env._(
                    "Promise kept: %(paid)s paid towards the %(amount)s promised by %(date)s.",
                    paid=p.currency_id.format(p.amount_paid),
                    amount=p.currency_id.format(p.amount),
                    date=format_date(self.env, p.promise_date),
                ),
                user=user,
                date=run_date,
            )
        if broken:
            broken.state = "broken"
            broken._log_dunning(
                "promise_broken",
                lambda p: self.env._(
                    "Promise broken: %(amount)s was promised by %(date)s, %(paid)s was paid. "
                    "Dunning resumes at the stage the invoices' age calls for.",
                    amount=p.currency_id.format(p.amount),
                    date=format_date(self.env, p.extension_date or p.promise_date),
                    paid=p.currency_id.format(p.amount_paid),
                ),
                user=user,
                date=run_date,
            )
            broken._schedule_broken_tasks(company, run_date)
        stats["promises_kept"] += len(kept)
        stats["promises_broken"] += len(broken)

    def _schedule_broken_tasks(self, company, run_date):
        """A task for the customer's collector to phone about each broken promise."""
        collectors = self.env["dunning.engine"]._get_collectors(company, self.partner_id)
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
        vals_list = []
        open_lines = self._get_open_lines()
        for promise in self:
            labels = promise._get_line_labels(open_lines.get(promise.id, []))
            lines = Markup("<ul>%s</ul>") % Markup("").join(
                Markup("<li>%s</li>") % escape(label) for label in labels.values()
            )
            note = Markup("<p>%s</p>%s%s") % (
                self.env._(
                    "%(customer)s promised %(amount)s by %(date)s and paid %(paid)s. Ask why, "
                    "and agree on what happens next.",
                    customer=promise.partner_id.name,
                    amount=promise.currency_id.format(promise.amount),
                    date=format_date(self.env, promise.extension_date or promise.promise_date),
                    paid=promise.currency_id.format(promise.amount_paid),
                ),
                lines,
                promise.partner_id._dunning_phone_note(),
            )
            vals_list.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": promise.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._(
                        "Promise broken: phone %(customer)s", customer=promise.partner_id.name
                    ),
                    "note": note,
                    "user_id": (collectors[promise.partner_id.id] or self.env.user).id,
                    "date_deadline": run_date,
                    "dunning_company_id": company.id,
                }
            )
        self.env["dunning.engine"]._create_activities(vals_list)
