#!/usr/bin/env bash
# (Re)create the dunning_demo database with demo data, run the dunning job once and serve
# Odoo on http://localhost:8069. Emails go to a local sink (127.0.0.1:2525), never out.
# DEMO_DB, DEMO_PORT: another database and port; DEMO_SERVE=0: prepare only, do not serve.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# The user's PG* variables would steer Odoo and the PostgreSQL tools elsewhere.
. "$root/scripts/no_pg_env.sh"
db="${DEMO_DB:-dunning_demo}"
port="${DEMO_PORT:-8069}"
serve="${DEMO_SERVE:-1}"
start=$(date +%s)

"$root/scripts/check_odoo.sh"
python3 -m pip install -q --disable-pip-version-check -r requirements-test.txt aiosmtpd==1.4.6 2>&1 \
    | grep -v "^WARNING: \(Running pip as\|Location\)" || true
"$root/scripts/system_deps.sh"
# Assigned first, so that a failure stops here (eval "$(...)" would hide it).
pg_env=$("$root/scripts/pg_ensure.sh")
eval "$pg_env"
: "${PG_PORT:?pg_ensure.sh printed no PG_PORT}"
export PG_PORT
conf=$("$root/scripts/odoo_conf.sh")
mkdir -p "$root/.build/logs"
addons=$(ls -d */__manifest__.py | xargs -n1 dirname | paste -sd, -)

# The Sales app (sale_management) gives the salesperson of the demo the Sales menu; the demo
# payment provider (payment_demo) lets the buyer pay on the customer page.
modules="$addons,sale_management,payment_demo"
echo "== (re)creating database $db with $modules and demo data (about 2 minutes on 2 cores)"
python3 -m odoo db -c "$conf" drop "$db" >/dev/null 2>&1 || true
python3 -m odoo -c "$conf" -d "$db" -i "$modules" --with-demo --stop-after-init \
    --log-level=warn > "$root/.build/logs/demo_install.log" 2>&1 \
    || { tail -40 "$root/.build/logs/demo_install.log"; exit 1; }

echo "== local mail sink on 127.0.0.1:2525 (messages in .build/logs/mail_sink.log)"
if ! (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null; then
    nohup python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Debugging \
        > "$root/.build/logs/mail_sink.log" 2>&1 &
    sleep 1
fi

echo "== running the dunning job once (the scheduled action), then the mail queue"
python3 -m odoo shell -c "$conf" -d "$db" --log-level=warn > "$root/.build/logs/demo_run.log" 2>&1 <<'PY'
env["ir.mail_server"].search([]).unlink()
env["ir.mail_server"].create({"name": "Local sink", "smtp_host": "127.0.0.1", "smtp_port": 2525})
env.cr.commit()
cron = env.ref("dunning_b2b.ir_cron_dunning")
cron.method_direct_trigger()
env["mail.mail"].process_email_queue()
env.cr.commit()
for company, level, count in env["dunning.line"]._read_group(
        [("is_open", "=", True), ("level_id", "!=", False)],
        ["company_id", "level_id"], ["__count"]):
    print(f"   {company.name[:24]:<25} {level.name:<20} {count} open item(s)")
# Each login finds the menus the instructions below send it to.
for login, path in (("collector", "Invoicing/Collections/Daily Work/My Worklist"),
                    ("sales", "Sales/Orders/Quotations"),
                    ("admin", "Invoicing/Collections/Configuration/Dunning Policies")):
    user = env["res.users"].search([("login", "=", login)])
    Menu = env["ir.ui.menu"].with_user(user)
    visible = Menu.browse(Menu._visible_menu_ids()).mapped("complete_name")
    print(f"   menu check: {login} {'sees' if path in visible else 'DOES NOT SEE'} {path}")
PY
grep -E "open item|menu check" "$root/.build/logs/demo_run.log" || true
if grep -q "DOES NOT SEE" "$root/.build/logs/demo_run.log"; then
    echo "FAILED: a login misses a menu the instructions name (above)"; exit 1
fi
# Our addons' and the PDF renderer's warnings and errors, if any, said plainly.
if grep -hE " (WARNING|ERROR|CRITICAL) .*(odoo\.addons\.dunning_b2b|ir_actions_report|wkhtmltopdf)" \
        "$root/.build/logs/demo_install.log" "$root/.build/logs/demo_run.log"; then
    echo "WARNING: the demo's logs have warnings of ours or of the PDF renderer (above)"
fi
echo "== demo ready in $(( $(date +%s) - start )) s"
[ "$serve" = "0" ] && exit 0

cat <<MSG

Odoo is starting on http://localhost:$port (database $db). Log in as:
  admin / admin           dunning manager: configures ladders (Invoicing > Collections > Configuration)
  collector / collector   collector: works the lists and sends reviewed messages
  sales / sales           salesperson (Sam Seller): sees credit holds, cannot lift them
What to look at:
  as collector: Invoicing > Collections > Daily Work > My Worklist
        customers by priority; select rows, then Print Letters (each customer's stage letter)
  Invoicing > Collections > Daily Work > Overdue
        open instalments and invoices by stage (Initech: two instalments, one overdue)
  Invoicing > Collections > Daily Work > Messages to Review
        formal notices waiting for a person
  Invoicing > Collections > Analysis > History
        every stage entry, email and task
  a customer (e.g. Wayne Logistics, Globex Corporation): Dunning tab and chatter
  Invoicing > Collections > Daily Work > Holds to Decide
        credit holds proposed to a manager
  as sales: Sales > Orders > Quotations, then Wayne Logistics' quotation
        the credit hold banner; Confirm is refused, Request Approval asks a manager (admin)
  Invoicing > Collections > Analysis > Dashboard
        CEI, DSO, ADD, bad debt, resolution by stage
Stop with Ctrl+C.
MSG
exec python3 -m odoo -c "$conf" -d "$db" --http-port="$port" --log-level=warn
