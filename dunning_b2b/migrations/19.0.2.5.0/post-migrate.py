def migrate(cr, version):
    """The daily checks read the change journal from now on (issue 15): the marks of the
    fingerprint they replace say nothing about it, so the first run checks every customer."""
    cr.execute("DELETE FROM dunning_daily_mark")
