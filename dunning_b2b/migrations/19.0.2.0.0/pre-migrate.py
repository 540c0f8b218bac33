"""19.0.2.0.0: the engine works on receivable lines.

Before the update: drop the unique indexes that made a stage once per invoice and a message
once per customer, stage and day (two instalments of one invoice reach the same stage; a
later run the same day may message new lines), and the index of open invoice headers.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """DROP INDEX IF EXISTS dunning_event_stage_once;
           DROP INDEX IF EXISTS dunning_message_once_a_day;
           DROP INDEX IF EXISTS account_move_dunning_open_index"""
    )
