"""Phone numbers for click-to-call, read with ``phonenumbers``."""

from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class PhoneNumber:
    raw: str
    e164: str | None = None
    international: str | None = None

    @property
    def valid(self):
        return self.e164 is not None


def normalize_phone(number, region=None):
    """Read ``number`` as written by a person, the country code ``region`` (e.g. "US")
    for numbers without an international prefix.

    :return: :class:`PhoneNumber`; ``e164`` is None when the number cannot be read or is
        not a possible number in any country.
    """
    raw = (number or "").strip()
    if not raw:
        return PhoneNumber(raw)
    try:
        parsed = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return PhoneNumber(raw)
    if not phonenumbers.is_valid_number(parsed):
        return PhoneNumber(raw)
    return PhoneNumber(
        raw,
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )
