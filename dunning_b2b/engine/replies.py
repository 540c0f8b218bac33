"""Replies to reminders: which are written by a person, and how long they pause reminders."""

import re
from datetime import timedelta

# Subjects of out-of-office and automatic replies, as mail clients write them (English,
# French, German, Spanish, Dutch), at the start of the subject.
AUTOMATIC_SUBJECTS = re.compile(
    r"^\s*(?:"
    r"out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto(?:matic)?[\s-]?reply|autoreply"
    r"|auto[\s-]?response|away\s+from\s+(?:the\s+)?office|on\s+vacation"
    r"|r[ée]ponse\s+automatique|absence\s+du\s+bureau|message\s+d'absence|absent\b"
    r"|abwesenheitsnotiz|automatische\s+antwort|abwesend|nicht\s+im\s+b[üu]ro"
    r"|respuesta\s+autom[áa]tica|fuera\s+de\s+la\s+oficina|ausente\b"
    r"|automatisch\s+antwoord|afwezig|niet\s+aanwezig|buiten\s+kantoor"
    r")",
    re.IGNORECASE,
)
AUTOMATIC_PRECEDENCE = {"auto_reply", "bulk", "junk"}


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


def is_automatic_reply(headers, subject=""):
    """Whether an incoming email was sent by a machine (out of office, autoresponder, list)
    rather than written by a person (RFC 3834 and the headers mail servers use instead).

    :param headers: dict header name -> list of its values
    :param subject: the decoded subject
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
    return bool(AUTOMATIC_SUBJECTS.match(subject or ""))


def reply_pause_until(reply_date, pause_days):
    """The last day reminders stay paused after a reply received on ``reply_date``: the
    reply's day and the ``pause_days`` days after it; None for no pause."""
    if not pause_days or pause_days <= 0:
        return None
    return reply_date + timedelta(days=pause_days)
