def migrate(cr, version):
    """Worklist rows written before their daily growth was stored (``base_date``, the
    priority's and the days late's base and growth, ``next_action_today``) would be shifted
    by the day with none: each is computed again by the next daily run instead. The new
    columns start at zero, not empty: that run writes only the values that differ from what
    a row holds, and an empty column reads as zero."""
    cr.execute(
        """UPDATE dunning_worklist
              SET recompute_date = NULL, base_date = refresh_date, priority_base = 0,
                  priority_growth = 0, late_amount_days = 0, late_amount = 0,
                  late_open_amount = 0, next_action_today = FALSE"""
    )
