# Sourced by the scripts that run PostgreSQL tools or Odoo: forget the libpq variables of the
# user's shell (PGUSER, PGHOST, PGPASSWORD, PGPORT, PGDATABASE, ...). Odoo 19 reads them
# before its configuration file, psql as the "postgres" superuser would use them too; these
# scripts work on the local cluster with the role and .build/odoo.conf they make themselves.
# Our own settings are PG_ROLE, PG_PASSWORD and PG_PORT (with an underscore), kept.
while read -r pg_variable; do
    unset "$pg_variable"
done < <(compgen -e | grep -E '^PG[A-Z]' || true)
