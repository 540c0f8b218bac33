"""Replies to reminders: which are written by a person, and how long they pause reminders."""

import re
from datetime import timedelta

# Subjects of out-of-office and automatic replies, as mail clients write them (English,
# French, German, Spanish, Dutch), at the start of the subject.
AUTOMATIC_SUBJECTS = re.compile(
    r"^\s*(?:"
    r"out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto(?:matic)?[\s-]?reply|autoreply"
    r"|auto[\s-]?response|away\s+from\s+(?:the\s+)?office|on\s+vacation"
    r"|r[ée]ponse\s+automatique|absence\s+du\s+bureau|message\s+d'absence|absent\s*:"
    r"|abwesenheitsnotiz|automatische\s+antwort|abwesend|nicht\s+im\s+b[üu]ro"
    r"|respuesta\s+autom[áa]tica|fuera\s+de\s+la\s+oficina|ausente\s*:"
    r"|automatisch\s+antwoord|afwezig|niet\s+aanwezig|buiten\s+kantoor"
    r")",
    re.IGNORECASE,
)
AUTOMATIC_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}
# Delivery reports that come back as plain emails instead of RFC 3464 reports.
DELIVERY_SUBJECTS = re.compile(
    r"^\s*(?:delivery\s+status\s+notification|undeliver(?:ed|able)|mail\s+delivery\s+"
    r"(?:failed|failure|subsystem)|returned\s+mail|failure\s+notice|non[\s-]?remis"
    r"|unzustellbar|nicht\s+zustellbar|onbestelbaar|no\s+entregado)",
    re.IGNORECASE,
)
MACHINE_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)


def _values(headers, name):
    """The values of header ``name`` (any case) in ``headers``: a dict name -> list of
    values, as read from the raw email."""
    name = name.lower()
    return [
        str(value).strip()
        for key, values in headers.items()
        if key.lower() == name
        for value in values
        if value is not None
    ]


def is_automatic_reply(headers, subject="", sender=""):
    """Whether an incoming email was sent by a machine (out of office, autoresponder, list)
    rather than written by a person (RFC 3834 and the headers mail servers use instead).

    :param headers: dict header name -> list of its values
    :param subject: the decoded subject
    :param sender: the sender's email address
    """
    if any(value.lower() != "no" for value in _values(headers, "Auto-Submitted")):
        return True
    if _values(headers, "X-Autoreply") or _values(headers, "X-Autorespond"):
        return True
    if any(
        token.strip().lower() in ("oof", "all")
        for value in _values(headers, "X-Auto-Response-Suppress")
        for token in value.split(",")
    ):
        return True
    if any(value.lower() in AUTOMATIC_PRECEDENCE for value in _values(headers, "Precedence")):
        return True
    if MACHINE_SENDERS.match((sender or "").strip()):
        return True
    # "Re: Out of Office: ..." is a person answering an automatic reply: not automatic.
    subject = subject or ""
    return bool(AUTOMATIC_SUBJECTS.match(subject) or DELIVERY_SUBJECTS.match(subject))


def reply_pause_until(reply_date, pause_days):
    """The last day reminders stay paused after a reply received on ``reply_date``: the
    reply's day and the ``pause_days`` days after it; None for no pause."""
    if not pause_days or pause_days <= 0:
        return None
    return reply_date + timedelta(days=pause_days)
