"""Opening hours as UTC intervals.

Opening hours are written in the organization's city's wall-clock time. Every
computation converts them to aware UTC intervals first and then works in UTC, so
DST transitions and cities east of Moscow come out right: 10:00 in Novosibirsk
(UTC+7) is 03:00 UTC, and a day with a DST change has 23 or 25 hours.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings.models import Closure, OpeningHours


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone``.

    A wall time skipped by a DST jump resolves with the offset in force before
    the jump (Python's fold=0), i.e. one hour later in real time.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge touching or overlapping intervals."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def open_intervals(*, organization, first_day: date, last_day: date, zone: ZoneInfo | None = None) -> list[Interval]:
    """The organization's open time from ``first_day`` to ``last_day`` (local dates, inclusive), in UTC.

    Intervals of consecutive days that touch at midnight are merged, so an
    evening that continues past midnight is one interval. Closed days drop out.
    """
    zone = zone or organization.city.tzinfo
    rows_by_weekday: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens_at, closes_at in OpeningHours.objects.filter(organization=organization).values_list(
        "weekday", "opens_at", "closes_at"
    ):
        rows_by_weekday.setdefault(weekday, []).append((opens_at, closes_at))
    closed = set(
        Closure.objects.filter(organization=organization, date__gte=first_day, date__lte=last_day).values_list(
            "date", flat=True
        )
    )
    intervals = []
    day = first_day
    while day <= last_day:
        if day not in closed:
            for opens_at, closes_at in rows_by_weekday.get(day.weekday(), ()):
                start = local_to_utc(day, opens_at, zone)
                if closes_at == time(0):
                    end = local_to_utc(day + timedelta(days=1), time(0), zone)
                else:
                    end = local_to_utc(day, closes_at, zone)
                if end > start:
                    intervals.append(Interval(start, end))
        day += timedelta(days=1)
    return merge(intervals)


def is_open_for(*, organization, start: datetime, end: datetime, zone: ZoneInfo | None = None) -> bool:
    """True when ``[start, end)`` lies inside one continuous open interval."""
    zone = zone or organization.city.tzinfo
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    return any(
        interval.covers(start, end)
        for interval in open_intervals(organization=organization, first_day=first, last_day=last, zone=zone)
    )
