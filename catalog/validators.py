"""Normalisation of an organization's website, shared by forms, the API and the CSV import.

Phones follow the project's one rule in ``portal.phones``.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from portal.errors import ValidationError

_url_validator = URLValidator(schemes=["http", "https"])


def normalize_website(value: str) -> str:
    """Return an http(s) URL; a bare domain gets ``https://``. Raises ``portal.errors.ValidationError``."""
    value = (value or "").strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    try:
        _url_validator(value)
    except DjangoValidationError:
        raise ValidationError(_("Enter a valid website address, e.g. https://example.ru."), code="bad_url")
    if len(value) > 200:
        raise ValidationError(_("The website address is too long."), code="bad_url")
    return value
