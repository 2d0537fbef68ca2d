"""The booking journey on the pages: a service, who and when, the confirmation, signing in on the way,
cancel and move with a confirmation, the owner's day, the week editor and the set-up checklist."""

import re
from datetime import time
from urllib.parse import urlencode

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingParticipant, OpeningHours
from bookings.tests.clock import at
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.models import Organization
from catalog.tests.factories import OrganizationFactory, ServiceFactory
from mailings.models import Notification
from portal.models import User
from portal.tests.factories import USER_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def barbershop(organization, resource, service):
    """Two masters: Кресло 1 does everything, Софья only haircuts; a beard trim nobody but Кресло 1 does."""
    sofia = ResourceFactory(organization=organization, name="Мастер Софья", kind="specialist")
    sofia.services.add(service)
    beard = ServiceFactory(organization=organization, name="Борода", duration_minutes=30, price="1200.00")
    return {"org": organization, "any": resource, "sofia": sofia, "haircut": service, "beard": beard}


def page(client, org, **params):
    response = client.get(reverse("bookings:organization", args=[org.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def confirm_url(**params) -> str:
    return f"{reverse('bookings:confirm')}?{urlencode(params)}"


# --- choosing ----------------------------------------------------------------------------------


def test_service_first_then_who_then_a_day_and_a_slot(client, barbershop):
    org, haircut = barbershop["org"], barbershop["haircut"]

    services_step = page(client, org)
    assert "1. Выберите услугу" in services_step
    assert "Стрижка" in services_step and "1\xa0500\xa0₽" in services_step and "60 минут" in services_step

    who = page(client, org, service=haircut.pk)
    assert 'data-testid="resource-any"' in who
    assert who.count('data-testid="resource-choice"') == 2  # both masters cut hair

    slots = page(client, org, service=haircut.pk, resource="any", date="2026-03-03")
    assert ">09:00<" in slots and ">20:00<" in slots
    first = re.search(r'href="(/bookings/confirm/\?[^"]+)"[^>]*>09:00<', slots).group(1).replace("&amp;", "&")
    assert "any=1" in first and f"service={haircut.pk}" in first and "time=09%3A00" in first


def test_a_service_with_one_specialist_skips_the_choice(client, barbershop):
    org, beard = barbershop["org"], barbershop["beard"]
    html = page(client, org, service=beard.pk, date="2026-03-03")
    assert 'data-testid="slots"' in html and "Кресло 1" in html and 'data-testid="resource-any"' not in html


def test_the_service_list_is_filtered_by_the_specialist(client, barbershop):
    org, sofia, beard = barbershop["org"], barbershop["sofia"], barbershop["beard"]
    hers = page(client, org, resource=sofia.pk)
    assert "Что забронировать: Мастер Софья" in hers
    assert "Стрижка" in hers and "Борода" not in hers

    wrong = page(client, org, resource=sofia.pk, service=beard.pk, date="2026-03-03")
    assert "Мастер Софья не оказывает услугу «Борода». Выберите, кто оказывает:" in wrong
    assert "свободного времени нет" not in wrong
    assert 'data-testid="slots"' in wrong  # only Кресло 1 does beards: their free time is shown


def test_a_time_in_the_link_goes_straight_to_the_confirmation(client, barbershop):
    org, haircut, sofia = barbershop["org"], barbershop["haircut"], barbershop["sofia"]
    url = reverse("bookings:organization", args=[org.pk])
    params = {"service": haircut.pk, "resource": sofia.pk, "date": "2026-03-03", "time": "17:00"}
    response = client.get(url, params)
    assert response.status_code == 302
    assert response["Location"] == confirm_url(resource=sofia.pk, service=haircut.pk, date="2026-03-03", time="17:00")

    services.booking_create(user=org.owner, resource=sofia, service=haircut, starts_at=at(17))
    taken = client.get(url, params)
    assert taken.status_code == 200 and "17:00 в этот день занято" in taken.content.decode()


def test_an_organization_with_nothing_to_book_says_so(client):
    org = OrganizationFactory(phone="+74950000000")
    html = page(client, org)
    assert "пока не принимает онлайн-записи" in html and "tel:+74950000000" in html
    assert 'data-testid="setup-checklist"' not in html  # the checklist is the owner's


# --- confirming ------------------------------------------------------------------------------


def test_the_confirmation_shows_what_where_when_price_and_this_slots_deadline(client, barbershop):
    org, sofia, haircut = barbershop["org"], barbershop["sofia"], barbershop["haircut"]
    response = client.get(confirm_url(resource=sofia.pk, service=haircut.pk, date="2026-03-03", time="17:00"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Стрижка" in html and "Мастер Софья" in html and org.name in html and org.address in html
    assert "3 марта 2026" in html and "17:00–18:00" in html and "Москва, UTC+3" in html
    assert '<dd class="price fs-5" data-testid="confirm-price">1\xa0500\xa0₽</dd>' in html
    assert "Бесплатная отмена — до 3 марта, 15:00." in html
    # not signed in: sign up or log in and come back to this very slot
    here = confirm_url(resource=sofia.pk, service=haircut.pk, date="2026-03-03", time="17:00")
    assert f"{reverse('account_signup')}?{urlencode({'next': here})}" in html.replace("&amp;", "&")
    assert f"{reverse('account_login')}?{urlencode({'next': here})}" in html.replace("&amp;", "&")
    assert Booking.objects.count() == 0


def test_a_slot_inside_the_cancellation_window_says_it_cannot_be_cancelled_online(client, resource):
    # now is 08:00: a 09:00 slot starts in an hour, inside the 2-hour window
    html = client.get(confirm_url(resource=resource.pk, date="2026-03-02", time="09:00")).content.decode()
    assert "До начала меньше 2 часов: после записи отменить её онлайн будет нельзя." in html
    assert "было" not in html


def test_confirming_books_with_the_comment_and_phone_and_tells_the_owner(client, user, barbershop):
    user.phone = ""
    user.save()
    sofia, haircut = barbershop["sofia"], barbershop["haircut"]
    client.force_login(user)
    data = {"resource": sofia.pk, "service": haircut.pk, "date": "2026-03-03", "time": "17:00"}
    response = client.post(reverse("bookings:confirm"), {**data, "comment": "Первый раз", "phone": "8 912 000 11 22"})
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("bookings:detail", args=[booking.pk])
    assert (booking.resource, booking.service, booking.starts_at) == (sofia, haircut, at(17))
    assert (booking.comment, booking.phone) == ("Первый раз", "+79120001122")
    user.refresh_from_db()
    assert user.phone == "+79120001122"
    assert Notification.objects.filter(user=barbershop["org"].owner, kind="booking_owner_created").exists()

    # the form is prefilled with the profile's phone next time
    again = client.get(confirm_url(**{**data, "time": "18:00"})).content.decode()
    assert 'value="+79120001122"' in again


def test_a_bad_phone_is_shown_next_to_its_field(client, user, resource):
    client.force_login(user)
    data = {"resource": resource.pk, "date": "2026-03-03", "time": "10:00", "phone": "12"}
    response = client.post(reverse("bookings:confirm"), data)
    assert response.status_code == 400
    assert 'id="id_phone-errors"' in response.content.decode()
    assert not Booking.objects.exists()


def test_any_available_books_another_specialist_when_the_first_was_taken_meanwhile(
    client, user, other_user, barbershop
):
    org, first, sofia, haircut = barbershop["org"], barbershop["any"], barbershop["sofia"], barbershop["haircut"]
    client.force_login(user)
    # the page offered Кресло 1 at 12:00; someone books them before the confirmation
    services.booking_create(user=other_user, resource=first, service=haircut, starts_at=at(12))
    data = {"resource": first.pk, "service": haircut.pk, "date": "2026-03-03", "time": "12:00", "any": "1"}
    response = client.post(reverse("bookings:confirm"), data)
    assert response.status_code == 302
    assert Booking.objects.get(user=user).resource == sofia
    # a chosen specialist is not swapped behind the client's back
    services.booking_create(user=other_user, resource=sofia, service=haircut, starts_at=at(14))
    refused = client.post(reverse("bookings:confirm"), {**data, "resource": sofia.pk, "time": "14:00", "any": ""})
    assert refused.status_code == 409 and Booking.objects.filter(user=user).count() == 1
    assert org.pk


def test_logging_in_comes_back_to_the_chosen_slot(client, user, resource):
    here = confirm_url(resource=resource.pk, date="2026-03-03", time="17:00")
    response = client.post(reverse("account_login"), {"login": user.email, "password": USER_PASSWORD, "next": here})
    assert response.status_code == 302 and response["Location"] == here


def test_signing_up_comes_back_to_the_chosen_slot_after_the_email_confirmation(client, resource):
    here = confirm_url(resource=resource.pk, date="2026-03-03", time="17:00")
    password = "Sup3r-secret-pass!"
    signup = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": password, "password2": password, "next": here},
    )
    assert signup.status_code == 302
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirmed = client.post(f"/{path}")
    assert confirmed.status_code == 302 and confirmed["Location"] == here
    assert client.get(here).context["user"] == User.objects.get(email="new@example.com")


# --- after booking ---------------------------------------------------------------------------


def test_cancelling_asks_first(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    detail = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    cancel_url = reverse("bookings:cancel", args=[booking.pk])
    assert f'href="{cancel_url}"' in detail and "Бесплатная отмена — до 3 марта, 08:00." in detail

    question = client.get(cancel_url)
    assert question.status_code == 200 and "Отменить запись?" in question.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    client.post(cancel_url)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_statuses_are_worded_for_the_reader(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CHECKED_IN)
    client.force_login(user)
    mine = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert 'data-testid="booking-status">вы пришли' in mine and "клиент пришёл" not in mine
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.COMPLETED)
    assert "посещено" in client.get(reverse("bookings:mine"), {"when": "past"}).content.decode()

    client.force_login(resource.organization.owner)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CHECKED_IN)
    owners = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert 'data-testid="booking-status">клиент пришёл' in owners


def test_participants_see_each_other_and_the_booker_sees_who_joined(client, user, other_user, resource):
    third = User.objects.create_user(email="third@example.com", password="x", first_name="Третий")
    resource.capacity = 5
    resource.save()
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    for guest in (other_user, third):
        services.booking_invite(booking=booking, actor=user, email=guest.email)
    services.booking_accept(booking=booking, user=other_user)

    client.force_login(other_user)
    seen_by_participant = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    participants = seen_by_participant.split('data-testid="participants"')[1].split("</ul>")[0]
    assert user.get_full_name() in participants and other_user.get_full_name() in participants
    assert "Третий" not in participants  # invited, not answered: nobody learns about them

    client.force_login(third)
    invited = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert 'data-testid="participants"' not in invited and 'data-testid="add-to-calendar"' not in invited
    assert BookingParticipant.objects.get(user=third).status == BookingParticipant.Status.INVITED


def test_the_booking_page_links_the_calendar_file(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    client.force_login(user)
    html = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
    assert f'href="{reverse("api:booking-ics", args=[booking.pk])}"' in html and "Добавить в календарь" in html


def test_times_are_shown_with_the_citys_name_and_offset(client, user, novosibirsk):
    org = OrganizationFactory(city=novosibirsk)
    open_every_day(org, time(9), time(21))
    seat = ResourceFactory(organization=org)
    html = page(client, org, resource=seat.pk, date="2026-03-03")
    assert "Новосибирск, UTC+7" in html and "Asia/Novosibirsk" not in html


# --- owners ------------------------------------------------------------------------------------


def test_the_owners_day_shows_each_specialist_with_the_clients_contact_and_check_in(client, user, barbershop):
    org, sofia, haircut = barbershop["org"], barbershop["sofia"], barbershop["haircut"]
    user.first_name, user.last_name, user.phone = "Анна", "Смирнова", "+79990001122"
    user.save()
    booking = services.booking_create(user=user, resource=sofia, service=haircut, starts_at=at(10), comment="Без шума")
    client.force_login(org.owner)

    html = client.get(reverse("bookings:owner_bookings", args=[org.pk]), {"date": "2026-03-03"}).content.decode()

    assert html.count('data-testid="day-column"') == 2  # every specialist, even without bookings
    column = html.split('id="resource-' + str(sofia.pk) + '"')[1].split("</section>")[0]
    assert "Анна Смирнова" in column and "tel:+79990001122" in column and "Без шума" in column
    assert "10:00–11:00" in column and "Стрижка" in column
    assert reverse("bookings:owner_check_in", args=[booking.pk]) in column
    assert reverse("bookings:cancel", args=[booking.pk]) + "?next=" in column


def test_the_week_editor_shows_each_day_once_and_saves_breaks_and_days_off(client, organization):
    client.force_login(organization.owner)
    url = reverse("bookings:opening_hours", args=[organization.pk])
    html = client.get(url).content.decode()
    assert html.count('data-testid="week-day"') == 7

    week = {
        "d0-is_open": "on",
        "d0-opens_at": "10:00",
        "d0-closes_at": "21:00",
        "d0-break_from": "14:00",
        "d0-break_to": "15:00",
    }
    week |= {"d5-is_open": "on", "d5-opens_at": "11:00", "d5-closes_at": "18:00"}  # Saturday; the rest are days off
    assert client.post(url, week).status_code == 302
    for _ in range(2):  # saving again adds nothing
        again = client.get(url).content.decode()
        assert again.count('data-testid="week-day"') == 7
    rows = list(OpeningHours.objects.filter(organization=organization).values_list("weekday", "opens_at", "closes_at"))
    assert rows == [(0, time(10), time(14)), (0, time(15), time(21)), (5, time(11), time(18))]
    assert 'name="d0-break_from" id="id_d0-break_from" value="14:00"' in again


def test_copy_monday_to_the_weekdays_fills_the_form_without_saving(client, organization):
    client.force_login(organization.owner)
    url = reverse("bookings:opening_hours", args=[organization.pk])
    before = OpeningHours.objects.filter(organization=organization).count()
    week = {"copy": "weekdays", "d0-is_open": "on", "d0-opens_at": "09:30", "d0-closes_at": "18:00"}
    html = client.post(url, week).content.decode()
    for weekday in range(5):
        assert f'name="d{weekday}-opens_at" id="id_d{weekday}-opens_at" value="09:30"' in html
    assert 'name="d5-opens_at" id="id_d5-opens_at" value=""' in html
    assert OpeningHours.objects.filter(organization=organization).count() == before


def test_a_new_organization_is_guided_from_services_to_places_and_hours(client, user, moscow):
    org = OrganizationFactory(owner=user, city=moscow, status=Organization.Status.DRAFT, listed_until=None)
    service = ServiceFactory(organization=org, name="Стрижка")
    client.force_login(user)

    services_page = client.get(reverse("catalog:services", args=[org.pk])).content.decode()
    assert reverse("bookings:owner_resources", args=[org.pk]) in services_page
    assert "Дальше: места и специалисты" in services_page and 'data-testid="setup-checklist"' in services_page

    response = client.post(
        reverse("bookings:owner_resources", args=[org.pk]),
        {"name": "Мастер Артём", "kind": "specialist", "services": [service.pk], "is_active": "on"},
    )
    assert response.status_code == 302
    resources_page = client.get(reverse("bookings:owner_resources", args=[org.pk])).content.decode()
    assert "Дальше: часы работы" in resources_page
    checklist = resources_page.split('data-testid="setup-checklist"')[1].split("</section>")[0]
    assert "✗" in checklist and reverse("bookings:opening_hours", args=[org.pk]) in checklist
    assert org.resources.get().services.get() == service


def test_the_catalog_page_shows_book_buttons_only_where_something_can_be_booked(client, barbershop):
    org, haircut, beard = barbershop["org"], barbershop["haircut"], barbershop["beard"]
    nobody = ServiceFactory(organization=org, name="Никто не делает")
    barbershop["any"].services.add(haircut, beard)
    html = client.get(reverse("catalog:detail", args=[org.pk])).content.decode()
    book = reverse("bookings:organization", args=[org.pk])
    assert 'data-testid="book-organization"' in html
    assert f'href="{book}?service={haircut.pk}"' in html and f'href="{book}?service={beard.pk}"' in html
    assert f'href="{book}?service={nobody.pk}"' not in html

    empty = OrganizationFactory()
    ServiceFactory(organization=empty)
    html = client.get(reverse("catalog:detail", args=[empty.pk])).content.decode()
    assert 'data-testid="book-organization"' not in html and 'data-testid="book-service"' not in html


def test_the_owner_checks_the_client_in_from_the_booking_page(client, user, resource):
    booking = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    url = reverse("bookings:detail", args=[booking.pk])
    client.force_login(user)
    assert reverse("bookings:owner_check_in", args=[booking.pk]) not in client.get(url).content.decode()
    client.force_login(resource.organization.owner)
    assert reverse("bookings:owner_check_in", args=[booking.pk]) in client.get(url).content.decode()
    with time_machine.travel(at(9, 50), tick=False):
        response = client.post(reverse("bookings:owner_check_in", args=[booking.pk]), {"next": url})
    assert response["Location"] == url
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CHECKED_IN
