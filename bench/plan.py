"""What the benchmark ledger holds, decided before anything is written: plain values, seeded.

The dataset's size is counted in open receivable lines, the engine's unit: each instalment of
an invoice is a line, and so is each open credit (a credit note or a payment on account not yet
reconciled). ``plan_documents`` returns the documents that make exactly ``lines`` open lines:

- invoices: due from 20 days ahead to 200 days overdue, 10 % partially paid, 20 % in the
  company's other currency; 10 % of them on a payment term with instalments (50 % at 30 days
  and 50 % at 90; thirds at 30, 60 and 90 days; 30 % at once and 70 % at 60 days), the first
  instalment already paid on some of them;
- open credits for 10 % of the customers: credit notes (a part of an invoice) and payments on
  account (round sums; on some customers as much as or more than all they owe in that
  currency, a payment not yet matched), mostly in the currency the customer is invoiced in.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

SEED = 20261123

# Instalment payment terms: (days after the invoice date, percent of the total) per instalment.
TERMS = {
    "50_30_90": ((30, 50.0), (90, 50.0)),
    "thirds_30_60_90": ((30, 33.33), (60, 33.33), (90, 33.34)),
    "30_now_70_60": ((0, 30.0), (60, 70.0)),
}
TERM_NAMES = {
    "50_30_90": "Bench 50% 30 days, 50% 90 days",
    "thirds_30_60_90": "Bench thirds at 30, 60 and 90 days",
    "30_now_70_60": "Bench 30% now, 70% 60 days",
}
TERM_WEIGHTS = {"50_30_90": 5, "thirds_30_60_90": 3, "30_now_70_60": 2}

INSTALMENT_SHARE = 0.1  # of the invoices
CREDIT_CUSTOMER_SHARE = 0.1  # of the customers
FOREIGN_SHARE = 0.2  # of the documents, in the company's other currency


@dataclass
class Line:
    """A receivable line: its due date, amount and open amount in the document's currency."""

    due: object
    amount: float
    residual: float


@dataclass
class Document:
    """``kind``: invoice, refund (credit note) or payment (on account); ``term``: a key of
    TERMS, or None for one line."""

    ordinal: int
    kind: str
    company: int
    partner_id: int
    foreign: bool
    date: object
    term: str = None
    lines: list = field(default_factory=list)

    @property
    def amount(self):
        return round(sum(line.amount for line in self.lines), 2)

    @property
    def residual(self):
        return round(sum(line.residual for line in self.lines), 2)

    @property
    def open_lines(self):
        return sum(1 for line in self.lines if line.residual)


def split(amount, percents):
    """Instalment amounts as Odoo's payment terms compute them: rounded, the last takes the
    remainder."""
    parts = [round(amount * pct / 100, 2) for pct in percents[:-1]]
    return [*parts, round(amount - sum(parts), 2)]


def _invoice(rng, ordinal, company, partner_id, today, room):
    """One invoice, with instalments for 10 % of them (when ``room`` open lines are left)."""
    foreign = rng.random() < FOREIGN_SHARE
    amount = round(rng.uniform(100, 10000), 2)
    if rng.random() < INSTALMENT_SHARE:
        term = rng.choices(list(TERM_WEIGHTS), list(TERM_WEIGHTS.values()))[0]
        days, percents = zip(*TERMS[term], strict=True)
        if len(days) <= room:
            # The first instalment at 30 days spans what a one-line invoice's due date does.
            invoice_date = today + timedelta(days=20 - rng.randint(0, 220) - 30)
            doc = Document(ordinal, "invoice", company, partner_id, foreign, invoice_date, term)
            for delay, part in zip(days, split(amount, percents), strict=True):
                doc.lines.append(Line(invoice_date + timedelta(days=delay), part, part))
            # A third of those whose first instalment is due have paid it.
            if doc.lines[0].due < today and rng.random() < 0.3:
                doc.lines[0].residual = 0.0
            return doc
    due = today + timedelta(days=20 - rng.randint(0, 220))
    residual = round(amount * rng.uniform(0.3, 0.7), 2) if rng.random() < 0.1 else amount
    doc = Document(ordinal, "invoice", company, partner_id, foreign, due - timedelta(days=30))
    doc.lines.append(Line(due, amount, residual))
    return doc


def _credits(rng, ordinal, count, company, partner_id, overdue, today):
    """The ``count`` open credits of one customer: credit notes or payments on account."""
    # The currency the customer owes most in (the company's own when it owes nothing).
    main = max((False, True), key=lambda foreign: (overdue[foreign], not foreign))
    docs = []
    for number in range(count):
        foreign = main if rng.random() < 0.85 else not main
        date = today - timedelta(days=rng.randint(1, 90))
        if number == 0 and overdue[foreign] and rng.random() < 0.3:
            # Paid what was asked (or more) without saying which invoices: not yet matched.
            kind, amount = "payment", round(overdue[foreign] * rng.uniform(1.0, 1.2), 2)
        elif rng.random() < 0.6:
            kind, amount = "refund", round(rng.uniform(100, 10000) * rng.uniform(0.05, 0.5), 2)
        else:
            kind, amount = "payment", float(round(rng.uniform(200, 5000), -1))
        doc = Document(ordinal + number, kind, company, partner_id, foreign, date)
        doc.lines.append(Line(date, amount, amount))
        docs.append(doc)
    return docs


def plan_documents(customers_by_company, lines, today, seed=SEED):
    """The documents making exactly ``lines`` open receivable lines, yielded one by one so that
    a million lines never sit in memory at once (only each customer's overdue sums do).

    :param customers_by_company: {company index: [customer ids]}
    :return: iterator of Document, invoices first, ordinals from 0
    """
    rng = random.Random(seed)
    companies = sorted(customers_by_company)
    weights = [len(customers_by_company[c]) for c in companies]
    everyone = [(c, p) for c in companies for p in customers_by_company[c]]
    with_credits = sorted(rng.sample(everyone, round(len(everyone) * CREDIT_CUSTOMER_SHARE)))
    # Decided first so that the invoices fill what the credits leave.
    credit_counts = [1 if rng.random() < 0.7 else 2 for _ in with_credits]
    invoice_lines = max(lines - sum(credit_counts), 0)
    ordinal, open_lines = 0, 0
    overdue = defaultdict(lambda: {False: 0.0, True: 0.0})
    while open_lines < invoice_lines:
        company = rng.choices(companies, weights)[0]
        partner_id = rng.choice(customers_by_company[company])
        doc = _invoice(rng, ordinal, company, partner_id, today, invoice_lines - open_lines)
        ordinal += 1
        open_lines += doc.open_lines
        for line in doc.lines:
            if line.due < today:
                overdue[doc.partner_id][doc.foreign] += line.residual
        yield doc
    for (company, partner_id), count in zip(with_credits, credit_counts, strict=True):
        credits = _credits(rng, ordinal, count, company, partner_id, overdue[partner_id], today)
        ordinal += len(credits)
        yield from credits
