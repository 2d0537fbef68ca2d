"""Moments written for people: in the city's time zone, the Russian way, with the place named.

One home for the rule "times in the organization's city zone, the zone named",
used by model titles, the admin and exports::

    city_datetime(booking.starts_at, city)   # "12 марта 2026, 08:00 (Москва)"

Without a city the site's zone (settings.TIME_ZONE, Moscow) is used and named.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from portal.models import City


def zone_of(city: City | None = None) -> ZoneInfo:
    """The city's zone, or the site's (Moscow) when there is no city."""
    return ZoneInfo(city.timezone) if city is not None and city.timezone else ZoneInfo(settings.TIME_ZONE)


def zone_label(city: City | None = None) -> str:
    """How the zone is named for people: the city's name, or "Moscow" for the site's zone."""
    return city.name if city is not None else _("Moscow")


def city_localtime(value: datetime, city: City | None = None) -> datetime:
    """``value`` (aware) in the city's zone."""
    return timezone.localtime(value, zone_of(city))


def city_datetime(value: datetime | None, city: City | None = None, fmt: str = "j E Y, H:i") -> str:
    """``value`` written in the city's zone with the place named: "12 марта 2026, 08:00 (Москва)"."""
    if value is None:
        return ""
    return f"{dateformat.format(city_localtime(value, city), fmt)} ({zone_label(city)})"
