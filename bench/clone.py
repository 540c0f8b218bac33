"""Write the planned documents (``plan.py``) by cloning, in SQL, documents posted through the
ORM: one template per company, currency and kind of document (invoice on each payment term,
credit note, payment on account). A template has its receivable lines (one per instalment)
and one other line (the sale, or the payment's outstanding receipts), no tax.

The clones carry what Odoo would have stored: on ``account_move`` the totals, open amounts and
payment state, the due date (the last instalment's, as Odoo sets it); on ``account_move_line``
each receivable line's due date, amounts, open amount and reconciled flag; payments on account
keep their ``account_payment`` row, linked both ways to their entry.
"""

TABLES = """
CREATE TEMP TABLE bench_plan (
    ord int, tpl_id int, partner_id int, kind varchar, name varchar, doc_date date, due date,
    untaxed numeric, total numeric, residual numeric, untaxed_signed numeric,
    total_signed numeric, total_cur_signed numeric, untaxed_cur_signed numeric,
    residual_signed numeric, payment_state varchar, counter_amount numeric,
    counter_balance numeric, pay_id int
) ON COMMIT DROP;
CREATE TEMP TABLE bench_line (
    ord int, n int, terms int, due date, amount numeric, balance numeric, residual numeric,
    residual_company numeric
) ON COMMIT DROP;
"""

SIGN = {"invoice": 1, "refund": -1, "payment": -1}  # of the receivable line


def _document_rows(doc, tpl_id, rate):
    """(plan row, line rows) of one planned document, amounts signed as Odoo stores them."""
    sign = SIGN[doc.kind]
    lines, balances, residuals_company = [], [], []
    for number, line in enumerate(doc.lines, start=1):
        balance = round(line.amount * rate, 2)
        if line.residual == line.amount:
            residual_company = balance
        else:
            residual_company = round(line.residual * rate, 2)
        balances.append(balance)
        residuals_company.append(residual_company)
        lines.append((doc.ordinal, number, len(doc.lines), line.due, sign * line.amount,
                      sign * balance, sign * line.residual, sign * residual_company))  # fmt: skip
    amount, residual = doc.amount, doc.residual
    amount_company = round(sum(balances), 2)
    residual_company = round(sum(residuals_company), 2)
    if doc.kind == "payment":
        totals = (0, amount, 0, 0, amount_company, amount, 0, 0)
        state = None  # the template's
    else:
        head = 1 if doc.kind == "invoice" else -1
        totals = (amount, amount, residual, head * amount_company, head * amount_company,
                  head * amount, head * amount, head * residual_company)  # fmt: skip
        state = "not_paid" if residual == amount else "partial" if residual else "paid"
    prefix = {"invoice": "BENCH", "refund": "RBENCH", "payment": "PBENCH"}[doc.kind]
    name = f"{prefix}/{doc.company}/{doc.ordinal:07d}"
    due = max(line.due for line in doc.lines)
    row = (doc.ordinal, tpl_id, doc.partner_id, doc.kind, name, doc.date, due, *totals, state,
           -sign * amount, -sign * amount_company, None)  # fmt: skip
    return row, lines


def _insert(cr, table, rows):
    width = len(rows[0]) if rows else 0
    placeholder = "(" + ",".join(["%s"] * width) + ")"
    for start in range(0, len(rows), 20000):
        args = ",".join(cr.mogrify(placeholder, r).decode() for r in rows[start : start + 20000])
        cr.execute(f"INSERT INTO {table} VALUES {args}")  # pylint: disable=sql-injection


def _columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name != 'id' ORDER BY ordinal_position",
        (table,),
    )
    return [r[0] for r in cr.fetchall()]


def _clone(cr, table, overrides, source):
    """INSERT INTO table SELECT every column from the template row ``t`` of ``source``, or its
    override."""
    cols = _columns(cr, table)
    exprs = [overrides.get(c, f"t.{c}") for c in cols]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} {source}"
    cr.execute(sql)  # pylint: disable=sql-injection


def clone_documents(env, docs, templates):
    """Insert the planned documents, in one transaction (the caller commits; call it per chunk
    of documents: the temporary tables are dropped at each commit).

    :param docs: list of plan.Document
    :param templates: {(company, foreign, kind, term): (template account.move, rate)}, rate =
        company currency per unit of the document's currency
    """
    cr = env.cr
    cr.execute(TABLES)
    plan_rows, line_rows = [], []
    for doc in docs:
        move, rate = templates[(doc.company, doc.foreign, doc.kind, doc.term)]
        row, lines = _document_rows(doc, move.id, rate)
        plan_rows.append(row)
        line_rows += lines
    _insert(cr, "bench_plan", plan_rows)
    _insert(cr, "bench_line", line_rows)
    # Each template's receivable lines, numbered by due date as Odoo numbers instalments.
    cr.execute(
        """CREATE TEMP TABLE bench_tpl_line ON COMMIT DROP AS
           SELECT l.move_id AS tpl_id, l.id AS line_id,
                  ROW_NUMBER() OVER (PARTITION BY l.move_id ORDER BY l.date_maturity, l.id) AS n
             FROM account_move_line l JOIN account_account a ON a.id = l.account_id
            WHERE a.account_type = 'asset_receivable'
              AND l.move_id IN (SELECT DISTINCT tpl_id FROM bench_plan)"""
    )
    cr.execute("SELECT COALESCE(max(id), 0) FROM account_payment")
    after_payment = cr.fetchone()[0]
    cr.execute("SELECT COALESCE(max(id), 0) FROM account_move")
    after_move = cr.fetchone()[0]
    _clone_payments(cr, after_payment)
    _clone_moves(cr, after_move)
    _clone_lines(cr)
    cr.execute(
        """UPDATE account_payment ap SET move_id = m.id FROM account_move m
            WHERE m.origin_payment_id = ap.id AND ap.move_id IS NULL AND ap.id > %s""",
        (after_payment,),
    )
    cr.execute("ANALYZE account_move; ANALYZE account_move_line; ANALYZE account_payment")


def _clone_payments(cr, after):
    over = {
        "name": "p.name", "move_id": "NULL", "date": "p.doc_date", "memo": "'BENCH-' || p.ord",
        "partner_id": "p.partner_id", "amount": "p.total",
        "amount_company_currency_signed": "p.total_signed", "is_reconciled": "false",
        "is_matched": "false", "create_date": "now()", "write_date": "now()",
    }  # fmt: skip
    _clone(
        cr, "account_payment", over,
        """FROM bench_plan p
             JOIN account_move tm ON tm.id = p.tpl_id
             JOIN account_payment t ON t.id = tm.origin_payment_id
            WHERE p.kind = 'payment'""",
    )  # fmt: skip
    cr.execute(
        """UPDATE bench_plan p SET pay_id = ap.id FROM account_payment ap
            WHERE p.kind = 'payment' AND ap.memo = 'BENCH-' || p.ord AND ap.id > %s""",
        (after,),
    )


def _clone_moves(cr, after):
    over = {
        "name": "p.name", "ref": "'BENCH-' || p.ord",
        "payment_reference": "CASE WHEN t.payment_reference IS NULL THEN NULL ELSE p.name END",
        "partner_id": "p.partner_id", "commercial_partner_id": "p.partner_id",
        "partner_shipping_id":
            "CASE WHEN t.partner_shipping_id IS NULL THEN NULL ELSE p.partner_id END",
        "invoice_partner_display_name":
            "CASE WHEN t.invoice_partner_display_name IS NULL THEN NULL ELSE 'Bench' END",
        "date": "p.doc_date",
        "invoice_date": "CASE WHEN t.invoice_date IS NULL THEN NULL ELSE p.doc_date END",
        "invoice_date_due": "CASE WHEN t.invoice_date_due IS NULL THEN NULL ELSE p.due END",
        "amount_untaxed": "p.untaxed", "amount_total": "p.total",
        "amount_residual": "p.residual", "amount_untaxed_signed": "p.untaxed_signed",
        "amount_total_signed": "p.total_signed",
        "amount_total_in_currency_signed": "p.total_cur_signed",
        "amount_untaxed_in_currency_signed": "p.untaxed_cur_signed",
        "amount_residual_signed": "p.residual_signed",
        "payment_state": "COALESCE(p.payment_state, t.payment_state)",
        "origin_payment_id": "p.pay_id",
        "sequence_number": "p.ord + 1000000", "create_date": "now()", "write_date": "now()",
    }  # fmt: skip
    _clone(cr, "account_move", over, "FROM bench_plan p JOIN account_move t ON t.id = p.tpl_id")
    cr.execute(
        """CREATE TEMP TABLE bench_moves ON COMMIT DROP AS
           SELECT m.id, p.ord FROM account_move m JOIN bench_plan p ON m.ref = 'BENCH-' || p.ord
            WHERE m.name = p.name AND m.id > %s""",
        (after,),
    )
    cr.execute("CREATE INDEX ON bench_moves (ord)")


def _clone_lines(cr):
    common = {
        "move_id": "nm.id", "move_name": "p.name", "date": "p.doc_date",
        "invoice_date": "CASE WHEN t.invoice_date IS NULL THEN NULL ELSE p.doc_date END",
        "partner_id": "CASE WHEN t.partner_id IS NULL THEN NULL ELSE p.partner_id END",
        "payment_id": "p.pay_id", "create_date": "now()", "write_date": "now()",
    }  # fmt: skip
    # Receivable lines: one per planned line, from the template's line of the same number.
    receivable = dict(common, **{
        "name": "CASE WHEN p.kind = 'payment' THEN t.name ELSE 'BENCH-' || p.ord || ' - ' || "
                "p.name || CASE WHEN l.terms > 1 THEN ' installment #' || l.n ELSE '' END END",
        "date_maturity": "l.due", "balance": "l.balance", "amount_currency": "l.amount",
        "debit": "GREATEST(l.balance, 0)", "credit": "GREATEST(-l.balance, 0)",
        "amount_residual": "l.residual_company", "amount_residual_currency": "l.residual",
        "reconciled": "l.residual = 0",
    })  # fmt: skip
    _clone(
        cr, "account_move_line", receivable,
        """FROM bench_line l
             JOIN bench_plan p ON p.ord = l.ord
             JOIN bench_moves nm ON nm.ord = l.ord
             JOIN bench_tpl_line tl ON tl.tpl_id = p.tpl_id AND tl.n = l.n
             JOIN account_move_line t ON t.id = tl.line_id""",
    )  # fmt: skip
    # The other line (sale or outstanding receipts) balances the receivable lines.
    other = dict(common, **{
        "balance": "p.counter_balance", "amount_currency": "p.counter_amount",
        "debit": "GREATEST(p.counter_balance, 0)", "credit": "GREATEST(-p.counter_balance, 0)",
        "date_maturity": "CASE WHEN t.date_maturity IS NULL THEN NULL ELSE p.doc_date END",
        "price_unit": "CASE WHEN t.price_unit = 0 THEN 0 ELSE p.total END",
        "price_subtotal": "CASE WHEN t.price_subtotal = 0 THEN 0 ELSE p.total END",
        "price_total": "CASE WHEN t.price_total = 0 THEN 0 ELSE p.total END",
        "amount_residual": "CASE WHEN t.reconciled OR (t.amount_residual = 0 AND "
                           "t.amount_residual_currency = 0) THEN 0 ELSE p.counter_balance END",
        "amount_residual_currency": "CASE WHEN t.reconciled OR (t.amount_residual = 0 AND "
                           "t.amount_residual_currency = 0) THEN 0 ELSE p.counter_amount END",
    })  # fmt: skip
    _clone(
        cr, "account_move_line", other,
        """FROM bench_plan p
             JOIN bench_moves nm ON nm.ord = p.ord
             JOIN account_move_line t ON t.move_id = p.tpl_id
            WHERE t.id NOT IN (SELECT line_id FROM bench_tpl_line)""",
    )  # fmt: skip
