from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import (
    CLEARED_BELOW,
    CLEARED_CANCELLED,
    CLEARED_COVERED,
    CLEARED_CREDITED,
    CLEARED_MINIMUM,
    CLEARED_PAID,
    CLEARED_RELEASED,
    HeldInvoice,
    HoldStage,
    cumulative_hold,
    decide_hold,
    decide_lift,
    over_credit_limit,
)
from ..engine.items import OpenItem, covered_keys, net_overdue_by_partner, positions
from .dunning_credit_hold import OPEN_STATES
from .dunning_line import ITEM_COLUMNS


class DunningCreditHold(models.Model):
    """What the daily run decides about credit holds: the stages' hold rules, the credit
    limits, and the automatic lifts. Every amount here is read from the open receivable
    lines (``dunning.line`` selector), credits netted per customer and currency."""

    _inherit = "dunning.credit.hold"

    # ------------------------------------------------------- run: stage rules
    @api.model
    def _apply_stage_rules(
        self, company, advances, run_date, user, stats, open_items=None, labels=None
    ):
        """Propose or apply holds for customers whose receivable lines entered a holding
        stage, or skipped one on the way: the rules are cumulative, a line gets the
        strongest hold rule of every stage up to its target.

        :param advances: engine ``Advance`` values of one batch (``line_id``,
            ``skipped_stage_ids``)
        :param open_items: the open items of the batch's customers, credits included, when
            the caller read them (else read here)
        :param labels: the lines' labels (``dunning.line._get_line_labels``), when looked up
        """
        Level = self.env["dunning.level"].with_context(active_test=False)
        levels = Level.browse(
            {stage_id for a in advances for stage_id in (a.stage_id, *a.skipped_stage_ids)}
        )
        stages = {level.id: HoldStage(level.id, level.day_offset, level.credit_hold)
                  for level in levels}  # fmt: skip
        by_partner = defaultdict(list)
        for advance in advances:
            stage = cumulative_hold(
                stages[stage_id] for stage_id in (advance.stage_id, *advance.skipped_stage_ids)
            )
            if stage:
                by_partner[advance.partner_id].append((advance, stage))
        if not by_partner:
            return
        netted = self._get_netted(company, list(by_partner), run_date, open_items)
        for partner_id in list(by_partner):
            kept = [
                (advance, stage)
                for advance, stage in by_partner[partner_id]
                if not netted.excludes(advance)
            ]
            if kept:
                by_partner[partner_id] = kept
            else:
                del by_partner[partner_id]
        if not by_partner:
            return
        partners = self.env["res.partner"].browse(list(by_partner))
        keys = partners._get_dunning_key_accounts(company, run_date)
        current = {hold.partner_id.id: hold for hold in self._get_open(partners, company)}
        line_ids = [advance.line_id for entries in by_partner.values() for advance, _s in entries]
        if labels is None or not set(line_ids) <= set(labels):
            labels = self.env["dunning.line"]._get_line_labels(line_ids)
        to_create, apply_flags, to_activate = [], [], self.browse()
        for partner in partners:
            entries = by_partner[partner.id]
            level = Level.browse(cumulative_hold(stage for _advance, stage in entries).id)
            share, key = keys[partner.id]
            hold = current.get(partner.id)
            action = decide_hold(level.credit_hold, key, hold.state if hold else None)
            # An open proposal that a later stage reaches again keeps up with it.
            moves_on = (
                not action
                and hold
                and hold.state == "proposed"
                and hold.origin == "stage"
                and level.day_offset > hold.level_id.day_offset
            )
            if not action and not moves_on:
                continue
            vals = {
                "origin": "stage",
                "level_id": level.id,
                "reason": self._get_stage_reason(
                    level, [advance for advance, _s in entries], labels
                ),
                "key_account": key,
                "revenue_share": share * 100,
                "move_ids": [
                    fields.Command.link(move_id)
                    for move_id in dict.fromkeys(advance.move_id for advance, _s in entries)
                ],
                "user_id": user.id,
            }
            if moves_on:
                hold.write(vals)
                hold.message_post(body=hold._get_proposal_note(), subtype_xmlid="mail.mt_note")
                continue
            if hold:  # an open proposal that a later stage applies
                hold.write(vals)
                to_activate |= hold
                continue
            to_create.append(
                dict(
                    vals,
                    partner_id=partner.id,
                    company_id=company.id,
                    state="proposed",
                    date_proposed=run_date,
                )
            )
            apply_flags.append(action == "apply")
        created = self.create(to_create)
        proposals = self.browse()
        for hold, apply_now in zip(created, apply_flags, strict=True):
            if apply_now:
                to_activate |= hold
            else:
                proposals |= hold
        self._start_holds(proposals, to_activate, company, run_date, user, stats)

    @api.model
    def _get_netted(self, company, partner_ids, run_date, items=None):
        """Which customers and currencies their open credits or the tolerance keep from a
        hold: credits of a customer in a currency that cover its overdue lines in that
        currency, and customers whose net overdue (company currency) is below the minimum
        amount of their policy.

        :param items: open items (credits included) of at least these customers, when the
            caller read them
        """
        if items is None:
            items = self.env["dunning.line"]._get_open_items(
                company, run_date, partner_ids=partner_ids
            )
        else:
            wanted = set(partner_ids)
            items = [item for item in items if item.partner_id in wanted]
        return _Netting(items, run_date, self._get_minimums(company, partner_ids))

    @api.model
    def _get_minimums(self, company, partner_ids):
        """The policy's minimum amount (company currency) of each customer."""
        partners = self.env["res.partner"].browse(partner_ids)
        policies = self.env["dunning.engine"]._get_partner_policies(company, partners)
        return {partner_id: policy.minimum_amount for partner_id, policy in policies.items()}

    def _get_stage_reason(self, level, advances, labels):
        """ "INV/2026/00042, instalment 1 of 2, INV/2026/00043 reached Escalation"

        :param labels: dict line id -> label (``dunning.line._get_line_labels``)
        """
        names = ", ".join(dict.fromkeys(labels.get(advance.line_id) or "" for advance in advances))
        targets = (
            self.env["dunning.level"]
            .with_context(active_test=False)
            .browse({advance.stage_id for advance in advances})
        )
        if level in targets:
            return self.env._("%(lines)s reached %(stage)s", lines=names, stage=level.name)
        return self.env._(
            "%(lines)s reached %(target)s, beyond %(stage)s",
            lines=names,
            target=targets.sorted("day_offset")[-1:].name,
            stage=level.name,
        )

    # ----------------------------------------------------- run: credit limits
    @api.model
    def _apply_credit_limits(self, company, run_date, user, stats, partners=None):
        """Hold customers (of ``partners``: at the click) whose net open receivables exceed
        their credit limit (company setting), and lift such holds once they are back under
        it."""
        rule = company.dunning_credit_limit_hold
        enabled = company.account_use_credit_limit and rule != "none"
        limit_holds = self.search(
            [
                ("company_id", "=", company.id),
                ("state", "in", OPEN_STATES),
                ("origin", "=", "credit_limit"),
            ]
            + ([("partner_id", "in", partners.ids)] if partners is not None else [])
        )
        if not enabled and not limit_holds:
            return
        amount = self._get_exposure(company, run_date, partners)
        Partner = self.env["res.partner"]
        customers = Partner.browse(list(amount)) if enabled else Partner
        customers |= limit_holds.partner_id
        # sudo: credit limits of these customers in this company, for the engine
        limits = {
            partner.id: partner.credit_limit for partner in customers.with_company(company).sudo()
        }
        over = {
            partner.id
            for partner in customers
            if over_credit_limit(amount.get(partner.id, 0.0), limits[partner.id])
        }
        currency = company.currency_id
        # Lift the holds of customers back under their limit.
        notes = {
            hold.id: self.env._(
                "Lifted automatically: open receivables net of credits (%(amount)s) are back "
                "under the credit limit (%(limit)s).",
                amount=currency.format(amount.get(hold.partner_id.id, 0.0)),
                limit=currency.format(limits[hold.partner_id.id]),
            )
            for hold in limit_holds
            if hold.partner_id.id not in over
        }
        self._close_cleared(self.browse(notes), notes, run_date, user, stats)
        if not enabled or not over:
            return
        held = Partner.browse(sorted(over))
        keys = held._get_dunning_key_accounts(company, run_date)
        current = {hold.partner_id.id: hold.state for hold in self._get_open(held, company)}
        vals_list, apply_now = [], []
        for partner in held:
            share, key = keys[partner.id]
            action = decide_hold(rule, key, current.get(partner.id))
            # A customer with an open proposal of another origin keeps that one.
            if not action or partner.id in current:
                continue
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "origin": "credit_limit",
                    "state": "proposed",
                    "date_proposed": run_date,
                    "reason": self.env._(
                        "Open receivables net of credits (%(amount)s) exceed the credit limit "
                        "(%(limit)s)",
                        amount=currency.format(amount[partner.id]),
                        limit=currency.format(limits[partner.id]),
                    ),
                    "key_account": key,
                    "revenue_share": share * 100,
                    "user_id": user.id,
                }
            )
            apply_now.append(action == "apply")
        created = self.create(vals_list)
        to_apply = self.browse([h.id for h, flag in zip(created, apply_now, strict=True) if flag])
        self._start_holds(created - to_apply, to_apply, company, run_date, user, stats)

    @api.model
    def _get_exposure(self, company, run_date, partners=None):
        """Each customer's (of ``partners``) net open amount in the company's currency: its
        open receivable lines, due or not, less its open credits of the same currency (a
        credit in another currency nets nothing), never below zero per currency.

        :return: dict partner id -> amount, for customers with a positive exposure
        """
        query = self.env["dunning.line"]._get_open_items_query(
            company, run_date, partner_ids=partners.ids if partners is not None else None
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id, SUM(GREATEST(amount, 0))
                     FROM (SELECT partner_id, currency_id, SUM(amount_company) AS amount
                             FROM (%s) items
                         GROUP BY partner_id, currency_id) per_currency
                 GROUP BY partner_id""",
                query,
            )
        )
        currency = company.currency_id
        return {
            partner_id: currency.round(total)
            for partner_id, total in rows
            if not currency.is_zero(total or 0.0)
        }

    # ------------------------------------------------------ run: lift holds
    @api.model
    def _lift_cleared(self, company, run_date, user, stats, partners=None):
        """Lift the stage holds (and withdraw the stage proposals) of customers (of
        ``partners``: the daily run's changed customers, or those clicked) that have no open
        receivable line at or beyond the holding stage any more, or whose open credits now
        cover what is overdue. Manual holds are left alone."""
        holds = self.search(
            [
                ("company_id", "=", company.id),
                ("state", "in", OPEN_STATES),
                ("origin", "=", "stage"),
                ("level_id", "!=", False),
            ]
            + ([("partner_id", "in", partners.ids)] if partners is not None else [])
        )
        # A chunk of held customers at a time: memory stays bounded by the chunk, not
        # by the number of holds (most customers of a large backlog are held).
        size = self.env["dunning.engine"]._get_chunk_size()
        ids = holds.ids
        for start in range(0, len(ids), size):
            chunk = self.browse(ids[start : start + size])
            by_partner = self._get_held_lines(company, chunk, run_date)
            notes = {}
            for hold in chunk:
                lift, reasons = decide_lift(
                    False, hold.level_id.day_offset, by_partner[hold.partner_id.id]
                )
                if lift:
                    notes[hold.id] = self._get_lift_note(hold, reasons)
            self._close_cleared(self.browse(notes), notes, run_date, user, stats)
            self.env.invalidate_all()

    def _get_held_lines(self, company, holds, run_date):
        """What the lift rule needs about the held customers, in two queries (the daily
        run asks for the held customers whose data changed, a chunk at a time; a click, for
        the customers clicked): their open receivable lines with a stage (or
        of a document that caused a hold), and the documents that caused the holds and have
        no open line any more (paid, credited or cancelled since).

        :return: dict partner id -> list of :class:`HeldInvoice`
        """
        partner_ids = holds.partner_id.ids
        items, offsets = self._get_staged_items(company, run_date, partner_ids)
        netted = _Netting(items, run_date, self._get_minimums(company, partner_ids))
        hold_moves = holds.move_ids
        hold_move_ids = set(hold_moves.ids)
        debits = [
            item
            for item in items
            if not item.is_credit
            and (offsets.get(item.line_id) is not None or item.move_id in hold_move_ids)
        ]
        open_move_ids = {item.move_id for item in debits}
        closed = hold_moves.filtered(lambda move: move.id not in open_move_ids)
        released = (
            self.env["account.move"]
            .browse(sorted(open_move_ids | set(closed.ids)))
            ._get_dunning_hold_releases(run_date)
        )
        by_partner = defaultdict(list)
        for item in debits:
            by_partner[item.partner_id].append(
                HeldInvoice(
                    move_id=item.move_id,
                    open=True,
                    stage_offset=offsets.get(item.line_id),
                    released=item.move_id in released,
                    covered=(item.partner_id, item.currency_id) in netted.covered,
                    below_minimum=item.partner_id in netted.small,
                )
            )
        closed.fetch(["state", "payment_state", "commercial_partner_id"])
        for move in closed:
            by_partner[move.commercial_partner_id.id].append(
                HeldInvoice(
                    move_id=move.id,
                    open=False,
                    stage_offset=None,
                    payment_state=move.payment_state,
                    state=move.state,
                    released=move.id in released,
                )
            )
        return by_partner

    @api.model
    def _get_staged_items(self, company, run_date, partner_ids):
        """The customers' open receivable items (credits included) and the day offset of
        the stage each line reached.

        :return: (list of :class:`OpenItem`, dict line id -> day offset)
        """
        query = self.env["dunning.line"]._get_open_items_query(
            company, run_date, partner_ids=partner_ids
        )
        self.env["dunning.line"].flush_model(["move_line_id", "level_id"])
        columns = SQL(", ").join(SQL.identifier("items", column) for column in ITEM_COLUMNS)
        rows = self.env.execute_query(
            SQL(
                """SELECT %s, lvl.day_offset
                     FROM (%s) items
                LEFT JOIN dunning_line dl ON dl.move_line_id = items.line_id
                LEFT JOIN dunning_level lvl ON lvl.id = dl.level_id
                 ORDER BY items.partner_id, items.due_date, items.line_id""",
                columns,
                query,
            )
        )
        items = [OpenItem(*row[:-1]) for row in rows]
        offsets = {row[0]: row[-1] for row in rows if row[-1] is not None}
        return items, offsets

    def _close_cleared(self, holds, notes, run_date, user, stats):
        """Withdraw the proposals and lift the active holds of ``holds``, with ``notes``."""
        withdraw = holds.filtered(lambda h: h.state == "proposed")
        if withdraw:
            withdraw.write({"state": "withdrawn", "date_end": run_date})
            withdraw._log("hold_withdrawn", run_date, user, notes)
            withdraw._close_activities(self.env._("No longer needed"))
        lifted = holds - withdraw
        if lifted:
            lifted._lift(run_date, user, notes)
            stats["holds_lifted"] += len(lifted)

    def _get_lift_note(self, hold, reasons):
        texts = {
            CLEARED_PAID: self.env._("paid"),
            CLEARED_CREDITED: self.env._("credited by a credit note"),
            CLEARED_RELEASED: self.env._("released in the customer's favour"),
            CLEARED_COVERED: self.env._("covered by the customer's open credits"),
            CLEARED_MINIMUM: self.env._("net overdue below the minimum amount"),
            CLEARED_CANCELLED: self.env._("cancelled"),
            CLEARED_BELOW: self.env._("no longer at that stage"),
        }
        return self.env._(
            "Lifted automatically: no open item is at or beyond %(stage)s any more "
            "(invoices %(reasons)s).",
            stage=hold.level_id.name,
            reasons=", ".join(texts[reason] for reason in reasons) or texts[CLEARED_BELOW],
        )


class _Netting:
    """Which customers and currencies are not held because of their open credits or the
    tolerance, from their open items (credits included)."""

    def __init__(self, items, run_date, minimums):
        position_map = positions(items, run_date)
        self.covered = covered_keys(position_map)
        net_overdue = net_overdue_by_partner(position_map)
        self.small = {
            partner_id
            for partner_id in {item.partner_id for item in items}
            if net_overdue[partner_id] < (minimums.get(partner_id, 0.0) or 0.0)
        }
        self.line_currency = {item.line_id: item.currency_id for item in items}
        self.move_currency = {item.move_id: item.currency_id for item in items
                              if not item.is_credit}  # fmt: skip

    def excludes(self, advance):
        """Whether the line of ``advance`` holds nobody: its customer's credits in its
        currency cover the overdue, or its customer's net overdue is below the minimum."""
        if advance.partner_id in self.small:
            return True
        currency_id = self.line_currency.get(advance.line_id) or self.move_currency.get(
            advance.move_id
        )
        return (advance.partner_id, currency_id) in self.covered
