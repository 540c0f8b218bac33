def migrate(cr, version):
    """Stage events of a line's first cycle were written with an empty cycle (the bulk writer
    stored 0 as NULL), which the unique index of stage entries (line, stage, cycle) does not
    cover: the first entry of each line and stage gets its cycle 0 back. A second one, if
    any, stays as it was written (the audit trail keeps it). The other figures written as
    empty (days overdue, open amount) cannot be told from a figure the event never had."""
    cr.execute(
        """UPDATE dunning_event e SET cycle = 0
            WHERE e.event_type = 'stage' AND e.cycle IS NULL AND e.move_line_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM dunning_event d
                               WHERE d.event_type = 'stage' AND d.move_line_id = e.move_line_id
                                 AND d.level_id = e.level_id AND COALESCE(d.cycle, 0) = 0
                                 AND d.id < e.id)
              AND NOT EXISTS (SELECT 1 FROM dunning_event d
                               WHERE d.event_type = 'stage' AND d.move_line_id = e.move_line_id
                                 AND d.level_id = e.level_id AND d.cycle = 0)"""
    )
