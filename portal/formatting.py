"""How money, dates and times are written for people.

One home for the display rules that pages, notifications, the admin and the
bots share (template filters in ``portal/templatetags/citydesk.py`` call these):

- money: ``1 990 ₽`` (``1 990,50 ₽`` with kopecks): a no-break space groups
  the thousands and stands before the sign, a comma before the kopecks;
- dates and times: always in the zone the caller names, the organization's
  city for anything that happens there, written the Russian way
  (``5 марта 2026, 14:30``: day, month name, year, 24-hour clock) in the active
  language. Notification texts are Russian: ``notify`` renders them in
  ``LANGUAGE_CODE``, and services build a notification's context with
  ``language=settings.LANGUAGE_CODE`` so the dates in it are Russian too.

Phones have their own module, ``portal.phones`` (``phone_format``).
"""

from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone, translation

NBSP = "\u00a0"
DATETIME_FORMAT = "j E Y, H:i"
DATE_FORMAT = "j E Y"
TIME_FORMAT = "H:i"


def money_format(amount) -> str:
    """``1 990 ₽``; ``1 990,50 ₽`` with kopecks; ``−100 ₽`` below zero; "" for None or "".

    Accepts a Decimal, an int or a numeric string (``"990.00"``, as the API and
    notification contexts carry money); anything else comes back as a string.
    """
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    sign = "−" if value < 0 else ""
    value = abs(value)
    whole = int(value)
    kopecks = int((value - whole) * 100)
    grouped = f"{whole:,}".replace(",", NBSP)
    text = f"{grouped},{kopecks:02d}" if kopecks else grouped
    return f"{sign}{text}{NBSP}₽"


def zone_get(zone: tzinfo | str | None) -> tzinfo:
    """A tzinfo from a zone or an IANA name; the project's zone (Moscow) for None or ""."""
    if zone is None or zone == "":
        return timezone.get_default_timezone()
    if isinstance(zone, str):
        return ZoneInfo(zone)
    return zone


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def datetime_format(
    value: datetime | str | None, *, zone: tzinfo | str | None, fmt: str = DATETIME_FORMAT, language: str | None = None
) -> str:
    """``value`` (an aware datetime or an ISO string) in ``zone``, written the Russian way.

    ``zone`` is the organization's city zone (a tzinfo or an IANA name);
    ``fmt`` is a Django date format (``DATETIME_FORMAT``, ``DATE_FORMAT``,
    ``TIME_FORMAT``…); ``language`` overrides the active one (notification texts
    pass ``LANGUAGE_CODE``). "" for None.
    """
    if value is None or value == "":
        return ""
    local = timezone.localtime(_aware(value), zone_get(zone))
    if language:
        with translation.override(language):
            return dateformat.format(local, fmt)
    return dateformat.format(local, fmt)
