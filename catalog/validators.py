"""Normalisation of contact fields shared by forms, the API and the CSV import."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

_PHONE_CHARS = re.compile(r"^[\d\s()+\-.]+$")


def normalize_phone(value: str) -> str:
    """Return a Russian phone number as ``+7XXXXXXXXXX`` (10-digit national number).

    Accepts the usual ways of writing one (``8 (495) 123-45-67``, ``+7 495 1234567``,
    ``4951234567``). Empty stays empty. Raises ``ValidationError`` otherwise.
    """
    value = (value or "").strip()
    if not value:
        return ""
    if not _PHONE_CHARS.match(value):
        raise ValidationError(_("Enter a phone number like +7 495 123-45-67."), code="bad_phone")
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10 or digits[0] not in "3489":
        raise ValidationError(_("Enter a phone number like +7 495 123-45-67."), code="bad_phone")
    return "+7" + digits


_url_validator = URLValidator(schemes=["http", "https"])


def normalize_website(value: str) -> str:
    """Return an http(s) URL; a bare domain gets ``https://``. Raises ``ValidationError``."""
    value = (value or "").strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    try:
        _url_validator(value)
    except ValidationError:
        raise ValidationError(_("Enter a valid website address, e.g. https://example.ru."), code="bad_url")
    if len(value) > 200:
        raise ValidationError(_("The website address is too long."), code="bad_url")
    return value
