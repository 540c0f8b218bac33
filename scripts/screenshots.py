"""Take the README's screenshots from a running `make demo` (Chromium through Playwright).

    make demo                     # or DEMO_DB=... DEMO_PORT=... scripts/demo.sh
    python3 scripts/screenshots.py [--url http://localhost:8069] [--db dunning_demo]

Writes docs/worklist.png (the collector's worklist), docs/collections_menu.png (the
Collections menu), docs/reminder_email.png (an early follow-up email as the customer gets
it), docs/formal_notice.png (the first page of a formal notice letter, from its PDF), and
the buyer's side: docs/buyer_page.png (the customer's page the email's link opens, without
login) and docs/buyer_pay.png (paying the selected invoices with the demo provider).
Needs `pip install playwright` and Debian's chromium (scripts/system_deps.sh installs it).
"""

import argparse
import html
import re
import subprocess
import tempfile
import xmlrpc.client
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def rpc(url, db, login, password):
    uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, login, password, {})
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(args), kwargs)

    def ref(xmlid):
        module, name = xmlid.split(".")
        [data] = call(
            "ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )  # fmt: skip
        return data["res_id"]

    return call, ref


def email_page(message):
    """The email as the customer's mail program shows it: its header, then its body."""
    header = "".join(
        f"<tr><th>{label}</th><td>{html.escape(value or '')}</td></tr>"
        for label, value in (
            ("From", message["email_from"]),
            ("Reply-To", message["reply_to"]),
            ("Subject", message["subject"]),
        )
    )
    return (
        "<html><body style='font-family: DejaVu Sans, sans-serif; margin: 24px; "
        "max-width: 820px'><table style='border-bottom: 1px solid #ccc; width: 100%; "
        f"margin-bottom: 16px; text-align: left'>{header}</table>{message['body']}"
        "</body></html>"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="dunning_demo")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    call, ref = rpc(args.url, args.db, "admin", "admin")
    follow_up = ref("dunning_b2b.dunning_level_follow_up")
    [message] = call(
        "dunning.message",
        "search_read",
        [("level_id", "=", follow_up), ("mail_message_id", "!=", False)],
        ["mail_message_id"],
        order="date desc, id desc",
        limit=1,
    )
    [mail] = call(
        "mail.message",
        "read",
        [message["mail_message_id"][0]],
        ["email_from", "reply_to", "subject", "body"],
    )
    formal = ref("dunning_b2b.dunning_level_formal_notice")
    [line] = call(
        "dunning.line",
        "search_read",
        [("level_id", "=", formal), ("is_open", "=", True)],
        ["partner_id"],
        limit=1,
    )
    partner_id = line["partner_id"][0]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 760})
        page.goto(f"{args.url}/web/login?db={args.db}")
        page.fill("input[name=login]", "collector")
        page.fill("input[name=password]", "collector")
        page.click("button[type=submit]")
        page.wait_for_selector(".o_main_navbar", timeout=60000)

        page.goto(f"{args.url}/odoo/action-dunning_b2b.dunning_worklist_action")
        page.wait_for_selector(".o_data_row", timeout=60000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "worklist.png"))
        print(out / "worklist.png")

        page.get_by_role("button", name="Collections").click()
        page.wait_for_selector(".dropdown-menu", timeout=10000)
        page.wait_for_timeout(800)
        page.screenshot(
            path=str(out / "collections_menu.png"),
            clip={"x": 0, "y": 0, "width": 700, "height": 560},
        )
        page.keyboard.press("Escape")
        print(out / "collections_menu.png")

        email = browser.new_page(viewport={"width": 880, "height": 200})
        email.set_content(email_page(mail))
        email.screenshot(path=str(out / "reminder_email.png"), full_page=True)
        print(out / "reminder_email.png")

        # The letter: the PDF a collector prints, first page as an image.
        response = page.request.get(
            f"{args.url}/report/pdf/dunning_b2b.report_formal_notice/{partner_id}"
        )
        if not response.ok:
            browser.close()
            raise SystemExit(f"formal notice: HTTP {response.status} (see the server's log)")
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "formal_notice.pdf"
            pdf.write_bytes(response.body())
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                 str(pdf), str(out / "formal_notice")],
                check=True,
            )  # fmt: skip

        print(out / "formal_notice.png")

        # The buyer's side: the page the email's link opens, no login.
        link = re.search(r'href="https?://[^/"]+(/dunning/\d+/[\w-]+)"', mail["body"])
        if not link:
            browser.close()
            raise SystemExit("the follow-up email carries no link to the customer's page")
        buyer = browser.new_page(viewport={"width": 1300, "height": 900})
        buyer.goto(f"{args.url}{link.group(1)}")
        buyer.wait_for_selector(".o_dunning_page", timeout=60000)
        buyer.wait_for_timeout(800)
        buyer.screenshot(path=str(out / "buyer_page.png"), full_page=True)
        print(out / "buyer_page.png")
        buyer.click("button.o_dunning_pay")
        buyer.wait_for_selector("#o_payment_form", timeout=60000)
        buyer.wait_for_timeout(800)
        buyer.screenshot(path=str(out / "buyer_pay.png"), full_page=True)
        print(out / "buyer_pay.png")
        browser.close()


if __name__ == "__main__":
    main()
