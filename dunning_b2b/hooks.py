def uninstall_hook(env):
    """Before the addon's tables go: the change journal's triggers on the ledger, partner,
    user and settings tables (``dunning.change._drop_triggers``)."""
    env["dunning.change"]._drop_triggers()
