"""Phone numbers: one normalised form (E.164, ``+79991234567``) for storage and display."""

import re

from django.utils.translation import gettext as _

from portal.errors import ValidationError

_SEPARATORS = re.compile(r"[\s\-().]")


def phone_normalize(value: str) -> str:
    """Return ``value`` as ``+<country><number>``, or "" for an empty value.

    Accepts the usual ways Russians write numbers: ``+7 (999) 123-45-67``,
    ``8 999 123 45 67`` (a leading 8 means +7), ``79991234567``. Other
    countries need the ``+`` and 10–15 digits. Raises ValidationError otherwise.
    """
    value = (value or "").strip()
    if not value:
        return ""
    compact = _SEPARATORS.sub("", value)
    if compact.startswith("+"):
        digits = compact[1:]
    elif len(compact) == 11 and compact[:1] in {"7", "8"}:
        digits = "7" + compact[1:]
    elif len(compact) == 10 and compact.startswith("9"):
        digits = "7" + compact  # a Russian mobile written without the country code
    else:
        digits = ""
    if not digits.isdigit() or not 10 <= len(digits) <= 15 or (digits.startswith("7") and len(digits) != 11):
        raise ValidationError(_("Enter a phone number like +7 999 123-45-67."), code="phone_invalid")
    return "+" + digits
