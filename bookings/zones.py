"""Time zones as people read them: the city's name and its UTC offset, never an IANA name."""

from datetime import datetime, timedelta

from django.utils import timezone


def utc_offset_label(offset: timedelta) -> str:
    """``UTC+7``, ``UTC−3:30``, ``UTC`` for a zero offset."""
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def city_zone_label(city, at: datetime | None = None) -> str:
    """``Новосибирск, UTC+7``: the city's name and its offset at ``at`` (now by default).

    The offset is the one in force at that moment, so a city with daylight
    saving time shows the offset of the booked date, not today's.
    """
    at = at or timezone.now()
    offset = timezone.localtime(at, city.tzinfo).utcoffset() or timedelta(0)
    return f"{city.name}, {utc_offset_label(offset)}"
