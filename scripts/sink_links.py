"""Print the links to the customer's page found in the reminders of the demo's mail sink.

The sink (aiosmtpd's Debugging handler) writes each message it receives between
"---------- MESSAGE FOLLOWS ----------" and "------------ END MESSAGE ------------".
Usage: python3 scripts/sink_links.py .build/logs/mail_sink.log
"""

import email
import email.policy
import re
import sys

LINK = re.compile(r"https?://[^\s\"'<>]+/dunning/\d+/[\w-]+")


def messages(text):
    for chunk in text.split("---------- MESSAGE FOLLOWS ----------")[1:]:
        raw = chunk.split("------------ END MESSAGE ------------")[0]
        # The handler prefixes nothing but may quote lines with b'...' on some versions.
        raw = "\n".join(line[2:-1] if line.startswith("b'") else line for line in raw.splitlines())
        yield email.message_from_string(raw.lstrip("\n"), policy=email.policy.default)


def main(path):
    with open(path, encoding="utf-8", errors="replace") as sink:
        text = sink.read()
    found = {}
    for message in messages(text):
        body = message.get_body(("html", "plain"))
        content = body.get_content() if body else ""
        for link in LINK.findall(content):
            found[message["To"]] = (message["Subject"], link)  # the latest reminder wins
    if not found:
        print("   no reminder with a link to the customer's page in the mail sink yet")
        return
    print(
        f"   {len(found)} reminder(s) in the mail sink carry a link to the customer's page, e.g.:"
    )
    for to, (subject, link) in list(found.items())[:3]:
        print(f"   {to} - {subject}\n      {link}")


if __name__ == "__main__":
    main(sys.argv[1])
