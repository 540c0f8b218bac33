def migrate(cr, version):
    """The default ladder's final stage proposes a final resolution case (issue 14)."""
    cr.execute(
        """UPDATE dunning_level SET propose_resolution = TRUE
            WHERE id = (SELECT res_id FROM ir_model_data
                         WHERE module = 'dunning_b2b' AND name = 'dunning_level_final')"""
    )
