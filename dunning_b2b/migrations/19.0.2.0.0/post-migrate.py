"""19.0.2.0.0: the engine's state moves from the invoice header onto its receivable lines.

Each open receivable line of a document that had reached a stage gets a dunning.line row at
that stage, reached on the same date, for its own due date: nothing is announced again, and
every event, message, promise and dispute stays as it was. Then the header columns go.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_name = 'account_move' AND column_name = 'dunning_level_id'"""
    )
    if not cr.fetchone():
        return
    cr.execute(
        """INSERT INTO dunning_line (move_line_id, move_id, partner_id, company_id, currency_id,
                                     level_id, level_date, due_date, cycle,
                                     create_uid, create_date, write_uid, write_date)
           SELECT aml.id, m.id, p.commercial_partner_id, aml.company_id, aml.currency_id,
                  m.dunning_level_id, m.dunning_date, aml.date_maturity, 1,
                  1, now() at time zone 'UTC', 1, now() at time zone 'UTC'
             FROM account_move m
             JOIN account_move_line aml ON aml.move_id = m.id
             JOIN account_account acc
               ON acc.id = aml.account_id AND acc.account_type = 'asset_receivable'
             JOIN res_partner p ON p.id = aml.partner_id
            WHERE m.dunning_level_id IS NOT NULL
              AND aml.parent_state = 'posted'
              AND aml.balance > 0
              AND NOT aml.reconciled
              AND aml.partner_id IS NOT NULL
       ON CONFLICT (move_line_id) DO NOTHING"""
    )
    cr.execute("ALTER TABLE account_move DROP COLUMN dunning_level_id, DROP COLUMN dunning_date")
