"""Opening hours, slots and bookings in the organization's city zone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings import selectors, services
from bookings.hours import is_open_for, open_intervals
from bookings.models import Closure, OpeningHours
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from portal.errors import ValidationError

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_ten_in_novosibirsk_is_three_utc(novosibirsk):
    org = OrganizationFactory(city=novosibirsk)
    open_every_day(org, time(10), time(18))
    resource = ResourceFactory(organization=org)

    slots = selectors.resource_free_slots(resource=resource, day=date(2026, 3, 2), duration_minutes=60)

    assert slots[0].starts_at == utc(2026, 3, 2, 3, 0)
    assert slots[-1].ends_at == utc(2026, 3, 2, 11, 0)
    assert len(slots) == 15  # 10:00 … 17:00 every 30 minutes


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_moscow_slots_are_utc_plus_three(moscow):
    org = OrganizationFactory(city=moscow)
    open_every_day(org, time(9), time(12))
    resource = ResourceFactory(organization=org)

    slots = selectors.resource_free_slots(resource=resource, day=date(2026, 3, 2), duration_minutes=45)

    assert [s.starts_at.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M") for s in slots] == [
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15",
    ]  # fmt: skip
    assert slots[0].starts_at == utc(2026, 3, 2, 6, 0)


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_dst_zone_opening_hours_follow_the_wall_clock(db):
    berlin = CityFactory(name="Берлин", slug="berlin", timezone="Europe/Berlin")
    org = OrganizationFactory(city=berlin)
    open_every_day(org, time(9), time(17))
    # Europe/Berlin switches to summer time on 29 March 2026 (02:00 → 03:00).
    before = open_intervals(organization=org, first_day=date(2026, 3, 28), last_day=date(2026, 3, 28))
    after = open_intervals(organization=org, first_day=date(2026, 3, 30), last_day=date(2026, 3, 30))

    assert before[0].start == utc(2026, 3, 28, 8, 0)  # UTC+1
    assert after[0].start == utc(2026, 3, 30, 7, 0)  # UTC+2
    assert after[0].end - after[0].start == timedelta(hours=8)


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_dst_night_has_23_hours_and_slots_step_in_real_time(db):
    berlin = CityFactory(name="Берлин", slug="berlin", timezone="Europe/Berlin")
    org = OrganizationFactory(city=berlin)
    open_every_day(org, time(0), time(0))  # round the clock
    resource = ResourceFactory(organization=org)

    slots = selectors.resource_free_slots(
        resource=resource, day=date(2026, 3, 29), duration_minutes=60, step_minutes=60
    )

    assert len(slots) == 23
    local = [s.starts_at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") for s in slots]
    assert "02:00" not in local and local[:3] == ["00:00", "01:00", "03:00"]


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_kaliningrad_has_no_dst_all_year(db):
    kaliningrad = CityFactory(name="Калининград", slug="kaliningrad", timezone="Europe/Kaliningrad")
    org = OrganizationFactory(city=kaliningrad)
    open_every_day(org, time(10), time(11))
    winter = open_intervals(organization=org, first_day=date(2026, 1, 15), last_day=date(2026, 1, 15))
    summer = open_intervals(organization=org, first_day=date(2026, 7, 15), last_day=date(2026, 7, 15))
    assert winter[0].start.hour == summer[0].start.hour == 8  # UTC+2


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_booking_across_local_midnight(novosibirsk, user):
    org = OrganizationFactory(city=novosibirsk)
    # Monday 2 March 2026: open 20:00–00:00, Tuesday 00:00–02:00.
    OpeningHours.objects.create(organization=org, weekday=0, opens_at=time(20), closes_at=time(0))
    OpeningHours.objects.create(organization=org, weekday=1, opens_at=time(0), closes_at=time(2))
    resource = ResourceFactory(organization=org)
    zone = ZoneInfo("Asia/Novosibirsk")

    booking = services.booking_create(
        user=user,
        resource=resource,
        starts_at=datetime(2026, 3, 2, 23, 0, tzinfo=zone),
        ends_at=datetime(2026, 3, 3, 1, 0, tzinfo=zone),
    )

    assert booking.starts_at == utc(2026, 3, 2, 16, 0)
    assert booking.ends_at == utc(2026, 3, 2, 18, 0)
    slots = selectors.resource_free_slots(resource=resource, day=date(2026, 3, 2), duration_minutes=60)
    local = [s.starts_at.astimezone(zone).strftime("%H:%M") for s in slots]
    assert local == ["20:00", "20:30", "21:00", "21:30", "22:00"]  # 23:00–01:00 taken; 01:00+ is Tuesday
    with pytest.raises(ValidationError) as exc:
        services.booking_create(
            user=user,
            resource=resource,
            starts_at=datetime(2026, 3, 3, 1, 30, tzinfo=zone),
            ends_at=datetime(2026, 3, 3, 2, 30, tzinfo=zone),
        )
    assert exc.value.code == "closed"


@time_machine.travel(utc(2026, 3, 1, 0, 0), tick=False)
def test_opening_hours_edges_lunch_break_day_off_and_closure(moscow, user):
    org = OrganizationFactory(city=moscow)
    for weekday in range(5):
        OpeningHours.objects.create(organization=org, weekday=weekday, opens_at=time(9), closes_at=time(13))
        OpeningHours.objects.create(organization=org, weekday=weekday, opens_at=time(14), closes_at=time(18))
    Closure.objects.create(organization=org, date=date(2026, 3, 9), reason="Праздник")
    zone = ZoneInfo("Europe/Moscow")

    def open_(day, start, end):
        return is_open_for(
            organization=org,
            start=datetime.combine(day, start, tzinfo=zone),
            end=datetime.combine(day, end, tzinfo=zone),
        )

    monday = date(2026, 3, 2)
    assert open_(monday, time(9), time(10))  # exactly at opening
    assert open_(monday, time(12), time(13))  # ending exactly at the break
    assert not open_(monday, time(8, 45), time(9, 45))  # starts before opening
    assert not open_(monday, time(12, 30), time(13, 30))  # runs into the break
    assert open_(monday, time(17), time(18))  # ending exactly at closing
    assert not open_(monday, time(17, 30), time(18, 30))
    assert not open_(date(2026, 3, 7), time(10), time(11))  # Saturday: day off
    assert not open_(date(2026, 3, 9), time(10), time(11))  # a closed date
    resource = ResourceFactory(organization=org)
    service = ServiceFactory(organization=org, duration_minutes=60)
    slots = selectors.resource_free_slots(resource=resource, day=monday, duration_minutes=service.duration_minutes)
    local = [s.starts_at.astimezone(zone).strftime("%H:%M") for s in slots]
    assert "12:00" in local and "12:30" not in local and "14:00" in local and local[-1] == "17:00"
    assert selectors.resource_free_slots(resource=resource, day=date(2026, 3, 7)) == []


def test_past_slots_are_hidden(moscow):
    org = OrganizationFactory(city=moscow)
    open_every_day(org, time(9), time(12))
    resource = ResourceFactory(organization=org)
    zone = ZoneInfo("Europe/Moscow")
    with time_machine.travel(datetime(2026, 3, 2, 10, 10, tzinfo=zone), tick=False):
        slots = selectors.resource_free_slots(resource=resource, day=date(2026, 3, 2), duration_minutes=60)
    assert [s.starts_at.astimezone(zone).strftime("%H:%M") for s in slots] == ["10:30", "11:00"]
