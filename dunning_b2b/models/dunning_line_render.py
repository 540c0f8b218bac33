"""Receivable lines as a customer reads them: the rows of reminders and letters, the open
credits beside them and the net amount asked, per currency."""

from collections import defaultdict

from odoo import api, models

from ..engine.items import allocate_credits


class DunningLineRender(models.AbstractModel):
    """Shared by the messages and the letters, so that they list the same lines the same way:
    each instalment with its own due date and open amount, never an invoice header's. (Task
    notes list lines with ``dunning.line._get_html_list``.)"""

    _name = "dunning.line.render"
    _description = "Receivable Lines as Customers Read Them"

    @api.model
    def _get_instalment_labels(self, lines):
        """``{line id: "instalment 1 of 2"}`` for the lines of documents with several
        receivable debits; documents with one line get no label."""
        instalments = self.env["dunning.line"]._get_instalments(lines.ids)
        return {
            line_id: self.env._("instalment %(number)s of %(count)s", number=number, count=count)
            for line_id, (number, count) in instalments.items()
            if count > 1
        }

    @api.model
    def _sort_key(self, line):
        """Lines by due date, then document."""
        return (line.date_maturity or line.date, line.move_id.name or "", line.id)

    @api.model
    def _is_listed(self, line, minimum=0.0, credited=0.0):
        """Whether ``line`` is open and what is left of it once the open credits applied to
        it (``credited``, in its currency) are taken off reaches ``minimum`` (in the company's
        currency: the policy's tolerance); a few cents left after a payment are not asked,
        nor a line the customer's credits cover."""
        if line.parent_state != "posted" or line.reconciled:
            return False
        open_amount = abs(line.amount_residual_currency)
        net = open_amount - credited
        if line.currency_id.compare_amounts(net, 0.0) <= 0:
            return False
        net_company = abs(line.amount_residual) * (net / open_amount if open_amount else 1.0)
        company_currency = line.company_id.currency_id
        return company_currency.compare_amounts(net_company, minimum or 0.0) >= 0

    @api.model
    def _get_allocations(self, companies, partner_ids):
        """The open credits applied to each open debit of these customers, oldest due first
        (``engine.items.allocate_credits``, the rule the engine follows).

        :return: dict line id -> credit applied (in the line's currency)
        """
        items = self.env["dunning.line"]._get_open_items(companies, partner_ids=partner_ids)
        return allocate_credits(items)

    @api.model
    def _prepare_row(self, line, on_date, label="", credited=0.0):
        move = line.move_id
        due = line.date_maturity or line.date
        amount = line.currency_id.round(line.amount_residual_currency)
        return {
            "credited": line.currency_id.round(credited),
            "net": line.currency_id.round(amount - credited),
            "line": line,
            "move": move,
            "name": move.name,
            "ref": move.ref or "",
            "instalment": label,
            "invoice_date": move.invoice_date or move.date,
            "due": due,
            "days": (on_date - due).days if due and on_date else 0,
            "amount": amount,
            "currency": line.currency_id,
            "payment_reference": move.payment_reference or move.name,
        }

    @api.model
    def _get_line_rows(
        self, lines, on_date, minimum=0.0, labels=None, credits=False, allocations=None
    ):
        """The rows of ``lines`` a customer is shown, by due date: open debits whose amount,
        once the credits applied to them are taken off, reaches ``minimum``; or, with
        ``credits``, every open credit.

        :param on_date: the date days overdue are counted to
        :param labels: instalment labels, when the caller looked them up for many lines
        :param allocations: credits applied per line (``_get_allocations``); none if not given
        :return: list of dicts (line, move, name, ref, instalment, invoice_date, due, days,
            amount [open, line currency], credited [credits applied to it], net [amount
            asked], currency, payment_reference)
        """
        if labels is None:
            labels = self._get_instalment_labels(lines) if not credits else {}
        allocations = allocations or {}
        rows = []
        for line in lines.sorted(self._sort_key):
            if (line.amount_residual_currency < 0) != credits:
                continue
            credited = allocations.get(line.id, 0.0)
            if credits:
                if line.parent_state != "posted" or line.reconciled:
                    continue
            elif not self._is_listed(line, minimum, credited):
                continue
            rows.append(self._prepare_row(line, on_date, labels.get(line.id, ""), credited))
        return rows

    @api.model
    def _get_credit_lines(self, items):
        """The open credits (credit notes, payments on account) among open ``items`` (from
        the selector), by date.

        :return: dict (commercial partner id, company id) -> account.move.line records
        """
        credit_ids = defaultdict(list)
        for item in sorted(items, key=lambda item: (item.invoice_date, item.line_id)):
            if item.is_credit:
                credit_ids[item.partner_id, item.company_id].append(item.line_id)
        # One prefetch set for all of them: each customer's credits are read with the rest.
        every = self.env["account.move.line"].browse(i for ids in credit_ids.values() for i in ids)
        return {
            key: every.browse(ids).with_prefetch(every._prefetch_ids)
            for key, ids in credit_ids.items()
        }

    @api.model
    def _get_credit_rows(self, credit_lines, rows, on_date, minimum=0.0):
        """The rows of the open credits in the currencies of ``rows``, whatever their amount
        (the engine applied them all): a credit in another currency nets nothing, so it is
        not shown beside them. ``minimum`` is ignored (kept for callers)."""
        if not credit_lines:
            return []
        currencies = {row["currency"] for row in rows}
        shown = credit_lines.filtered(lambda line: line.currency_id in currencies)
        return self._get_line_rows(
            shown.with_prefetch(credit_lines._prefetch_ids),
            on_date,
            minimum,
            labels={},
            credits=True,
        )

    @api.model
    def _get_summary(self, rows, credit_rows):
        """Per currency of ``rows``, by currency name: the total of the rows, the open credits
        applied to them (a positive amount: each credit counts once, on the oldest debts
        first, so two messages never deduct the same credit) and the net amount asked.

        :return: list of dicts (currency, total, credits, net)
        """
        totals = defaultdict(float)
        credits = defaultdict(float)
        for row in rows:
            totals[row["currency"]] += row["amount"]
            credits[row["currency"]] += row.get("credited", 0.0)
        summary = []
        for currency in sorted(totals, key=lambda c: c.name):
            total = currency.round(totals[currency])
            credit = currency.round(credits[currency])
            summary.append(
                {
                    "currency": currency,
                    "total": total,
                    "credits": credit,
                    "net": max(currency.round(total - credit), 0.0),
                }
            )
        return summary
