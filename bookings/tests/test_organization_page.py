"""What bookings adds to the catalog: the week's opening hours and latest reviews on the organization
page, and the list's "has free time today" filter — each in the city's time zone."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings import selectors, services
from bookings.models import Booking, Closure, OpeningHours
from bookings.tests.clock import MSK, NOW, at
from bookings.tests.factories import BookingFactory, ResourceFactory, open_every_day
from catalog import selectors as catalog_selectors
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def page(client, organization):
    return client.get(reverse("catalog:detail", args=[organization.pk])).content.decode()


def hours_row(html, weekday_class="table-primary"):
    match = re.search(rf'<tr class="{weekday_class}" aria-current="date">(.*?)</tr>', html, re.S)
    return match.group(1) if match else ""


# --- opening hours ------------------------------------------------------------------------


def test_week_hours_mark_today_and_say_open_until(client, organization):
    OpeningHours.objects.filter(organization=organization, weekday=6).delete()  # Sunday off
    with time_machine.travel(at(12, day=2), tick=False):  # Monday 2 March, 12:00 in Moscow
        html = page(client, organization)
        week = selectors.organization_week_hours(organization=organization)
    assert week.open_now and week.open_until.strftime("%H:%M") == "21:00"
    assert [d.is_today for d in week.days] == [True, False, False, False, False, False, False]
    assert week.days[6].intervals == []
    assert 'data-testid="open-status"' in html
    assert "21:00" in html.split('data-testid="open-status"')[1].split("</p>")[0]
    today = hours_row(html)
    assert "09:00–21:00" in today


def test_closed_now_says_when_it_opens_or_just_closed(organization):
    with time_machine.travel(at(8, day=2), tick=False):
        week = selectors.organization_week_hours(organization=organization)
    assert not week.open_now and week.opens_at.strftime("%H:%M") == "09:00"
    with time_machine.travel(at(22, day=2), tick=False):
        week = selectors.organization_week_hours(organization=organization)
    assert not week.open_now and week.opens_at is None


def test_a_closed_day_is_closed_today(client, organization):
    Closure.objects.create(organization=organization, date=datetime(2026, 3, 2).date(), reason="санитарный день")
    with time_machine.travel(at(12, day=2), tick=False):
        week = selectors.organization_week_hours(organization=organization)
        html = page(client, organization)
    assert not week.open_now and week.days[0].closed_today
    assert "санитарный день" in hours_row(html)


def test_hours_are_in_the_citys_zone_and_continue_past_midnight(client):
    novosibirsk = CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")
    organization = OrganizationFactory(city=novosibirsk)
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(organization=organization, weekday=0, opens_at=time(18), closes_at=time(0)),
            OpeningHours(organization=organization, weekday=1, opens_at=time(0), closes_at=time(2)),
        ]
    )
    zone = ZoneInfo("Asia/Novosibirsk")
    # Monday 23:30 in Novosibirsk is 19:30 in Moscow; the evening goes on until 02:00 on Tuesday.
    with time_machine.travel(datetime(2026, 3, 2, 23, 30, tzinfo=zone), tick=False):
        week = selectors.organization_week_hours(organization=organization)
        html = page(client, organization)
    assert week.open_now and week.open_until.strftime("%H:%M") == "02:00"
    assert week.days[0].is_today
    assert "18:00–24:00" in hours_row(html)
    # Tuesday 01:00 there is still Monday evening in Moscow, but Tuesday is today there.
    with time_machine.travel(datetime(2026, 3, 3, 1, 0, tzinfo=zone), tick=False):
        week = selectors.organization_week_hours(organization=organization)
    assert week.days[1].is_today and week.open_now


def test_no_hours_no_section(client, moscow):
    organization = OrganizationFactory(city=moscow)
    assert 'id="hours-title"' not in page(client, organization)


# --- reviews on the page -------------------------------------------------------------------------


def test_page_shows_rating_and_latest_reviews_with_answers(client, resource, staff_user):
    organization = resource.organization
    reviews = []
    for index in range(7):
        booking = BookingFactory(
            resource=resource,
            user=UserFactory(first_name=f"Клиент{index}"),
            starts_at=NOW - timedelta(days=10 - index),
            ends_at=NOW - timedelta(days=10 - index) + timedelta(hours=1),
            status=Booking.Status.COMPLETED,
        )
        with time_machine.travel(NOW - timedelta(days=9 - index), tick=False):
            reviews.append(
                services.review_create(
                    user=booking.user,
                    organization=organization.pk,
                    booking=booking,
                    rating=4 + index % 2,
                    text=f"Отзыв номер {index}",
                )
            )
    services.review_reply(review=reviews[6], by=organization.owner, text="Спасибо, ждём снова")
    services.review_hide(review=reviews[5], by=staff_user, reason="реклама")
    html = page(client, organization)
    assert 'data-testid="rating-summary"' in html
    shown = re.findall(r"Отзыв номер (\d)", html)
    assert shown == ["6", "4", "3", "2", "1"]  # the latest five visible, newest first
    assert "Спасибо, ждём снова" in html
    assert reverse("bookings:organization_reviews", args=[organization.pk]) in html


# --- services with a book button each ---------------------------------------------------------


def test_each_service_has_a_book_button_into_the_booking_flow(client, organization, resource):
    haircut = ServiceFactory(organization=organization, name="Стрижка", price=1800, duration_minutes=45)
    html = page(client, organization)
    link = f"{reverse('bookings:organization', args=[organization.pk])}?service={haircut.pk}"
    assert f'href="{link}"' in html
    booking_page = client.get(link).content.decode()
    assert "Стрижка" in booking_page


# --- the catalog's "has free time today" -------------------------------------------------------


def free(**filters):
    return [o.name for o in catalog_selectors.organization_list(free_today=True, ordering="name", **filters)]


def test_free_today_keeps_organizations_with_a_free_slot_left_today(moscow):
    # given, on Monday 2 March at 08:00 in Moscow:
    open_all_day = OrganizationFactory(name="Свободно", city=moscow)
    open_every_day(open_all_day)
    ResourceFactory(organization=open_all_day)
    no_resource = OrganizationFactory(name="Без ресурсов", city=moscow)
    open_every_day(no_resource)
    closed_today = OrganizationFactory(name="Выходной", city=moscow)
    OpeningHours.objects.create(organization=closed_today, weekday=1, opens_at=time(9), closes_at=time(21))
    ResourceFactory(organization=closed_today)
    holiday = OrganizationFactory(name="Санитарный день", city=moscow)
    open_every_day(holiday)
    ResourceFactory(organization=holiday)
    Closure.objects.create(organization=holiday, date=datetime(2026, 3, 2).date())
    full = OrganizationFactory(name="Всё занято", city=moscow)
    open_every_day(full, time(9), time(12))
    seat = ResourceFactory(organization=full)
    BookingFactory(resource=seat, starts_at=at(9, day=2), ends_at=at(12, day=2))
    long_service = OrganizationFactory(name="Долгая услуга", city=moscow)
    open_every_day(long_service, time(9), time(12))
    chair = ResourceFactory(organization=long_service)
    ServiceFactory(organization=long_service, duration_minutes=120)
    BookingFactory(resource=chair, starts_at=at(9, day=2), ends_at=at(10, 30, day=2))
    # when filtering
    with time_machine.travel(NOW, tick=False):
        assert free() == ["Свободно"]
    # then a cancelled booking frees the time again
    Booking.objects.filter(resource=seat).update(status=Booking.Status.CANCELLED)
    with time_machine.travel(NOW, tick=False):
        assert free() == ["Всё занято", "Свободно"]
    # and in the evening nothing is left today
    with time_machine.travel(at(20, 31, day=2), tick=False):
        assert free() == []


def test_free_today_uses_each_citys_own_date_and_time(moscow):
    novosibirsk = CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")
    east = OrganizationFactory(name="Восток", city=novosibirsk)
    open_every_day(east, time(9), time(18))
    ResourceFactory(organization=east)
    west = OrganizationFactory(name="Запад", city=moscow)
    open_every_day(west, time(9), time(18))
    ResourceFactory(organization=west)
    # 15:00 in Moscow is 19:00 in Novosibirsk: closed there for the day, open in Moscow.
    with time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=MSK), tick=False):
        assert free() == ["Запад"]
    # 04:00 in Moscow is 08:00 in Novosibirsk, already Tuesday... both open later today.
    with time_machine.travel(datetime(2026, 3, 3, 4, 0, tzinfo=MSK), tick=False):
        assert free() == ["Восток", "Запад"]


def test_free_today_on_the_page_and_the_api(client, api_client, settings, moscow):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    open_org = OrganizationFactory(name="Свободно", city=moscow)
    open_every_day(open_org)
    ResourceFactory(organization=open_org)
    OrganizationFactory(name="Без расписания", city=moscow)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("catalog:list"), {"free_today": "1"}).content.decode()
        api = api_client.get("/api/v1/organizations/", {"free_today": "true"}).json()
        everything = api_client.get("/api/v1/organizations/").json()
    assert 'name="free_today"' in html and "Свободно" in html and "Без расписания" not in html
    assert [o["name"] for o in api["results"]] == ["Свободно"]
    assert everything["count"] == 2


def test_free_today_query_count_is_constant(api_client, settings, moscow, django_assert_max_num_queries):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    for index in range(12):
        organization = OrganizationFactory(name=f"Место {index:02d}", city=moscow)
        open_every_day(organization)
        ResourceFactory(organization=organization)
        ServiceFactory(organization=organization)
    with time_machine.travel(NOW, tick=False):
        for page_size in (2, 12):
            with django_assert_max_num_queries(11):
                response = api_client.get("/api/v1/organizations/", {"free_today": "1", "page_size": page_size})
            assert len(response.json()["results"]) == page_size


def test_open_around_the_clock(client, moscow):
    organization = OrganizationFactory(city=moscow)
    open_every_day(organization, time(0), time(0))
    with time_machine.travel(at(3, day=2), tick=False):
        week = selectors.organization_week_hours(organization=organization)
        html = page(client, organization)
    assert week.open_now and week.around_the_clock
    assert "24:00" not in hours_row(html)
    # closing at midnight reads "until 24:00"
    late = OrganizationFactory(city=moscow)
    open_every_day(late, time(10), time(0))
    with time_machine.travel(at(22, day=2), tick=False):
        html = page(client, late)
    assert "24:00" in html.split('data-testid="open-status"')[1].split("</p>")[0]
