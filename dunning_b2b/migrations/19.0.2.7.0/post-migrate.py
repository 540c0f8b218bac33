def migrate(cr, version):
    """Worklist rows written before their daily growth was stored (``base_date``, the
    priority's and the days late's base and growth, ``next_action_today``) would be shifted
    by the day with none: each is computed again by the next daily run instead."""
    cr.execute("UPDATE dunning_worklist SET recompute_date = NULL")
