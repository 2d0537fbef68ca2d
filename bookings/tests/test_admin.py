"""The bookings back office: bookings change only through the booking rules."""

import pytest
import time_machine
from django.urls import reverse

from bookings import services
from bookings.models import Booking
from bookings.tests.clock import at
from catalog.models import Service
from mailings.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(user, resource):
    with time_machine.travel(at(8, day=2), tick=False):
        return services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))


def test_change_form_moves_a_booking_only_through_the_rules(
    staff_client, booking, other_user, django_capture_on_commit_callbacks
):
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    assert staff_client.get(url).status_code == 200
    # given: a post that tries to move the booking into closed hours and hand it to someone else
    closed = {"resource": booking.resource_id, "user": other_user.pk, "date": "2026-03-03", "time": "23:00"}
    with time_machine.travel(at(8), tick=False):
        refused = staff_client.post(url, closed)
    # then: the rule's message is shown next to the time, and nothing changed
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "time" in errors and "не работает" in errors["time"][0]
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at, booking.user_id) == (at(10), at(11), booking.user.pk)

    # when: a free time within the hours, with a note for the master
    with time_machine.travel(at(8), tick=False), django_capture_on_commit_callbacks(execute=True):
        moved = staff_client.post(url, {**closed, "time": "15:00", "comment": "Перенесли по звонку"})
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert (booking.starts_at, booking.user_id, booking.comment) == (at(15), booking.user.pk, "Перенесли по звонку")
    # the client gets the new confirmation, the owner the notice: the same service did it
    assert Notification.objects.filter(user=booking.user, kind="booking_confirmed").count() == 2
    assert Notification.objects.filter(user=booking.resource.organization.owner, kind="booking_owner_moved").exists()


def test_staff_create_a_booking_through_the_booking_rules(staff_client, user, resource, service, other_user):
    resource.services.add(service)
    add = reverse("admin:bookings_booking_add")
    assert staff_client.get(add).status_code == 200
    data = {"user": user.pk, "resource": resource.pk, "service": service.pk, "date": "2026-03-03", "time": "12:00"}
    with time_machine.travel(at(8), tick=False):
        services.booking_create(user=other_user, resource=resource, starts_at=at(12), ends_at=at(13))
        taken = staff_client.post(add, data)
        assert taken.status_code == 200
        assert "time" in taken.context["adminform"].form.errors
        assert not Booking.objects.filter(user=user).exists()

        created = staff_client.post(add, {**data, "time": "14:00", "phone": "8 999 111-22-33"})
    assert created.status_code == 302
    booking = Booking.objects.get(user=user)
    assert (booking.starts_at, booking.ends_at, booking.service, booking.phone) == (
        at(14),
        at(15),
        service,
        "+79991112233",
    )
    assert Notification.objects.filter(user=user, kind="booking_confirmed").exists()
    assert Notification.objects.filter(user=resource.organization.owner, kind="booking_owner_created").exists()


def test_staff_see_a_service_the_resource_does_not_offer_as_a_field_error(staff_client, user, resource, service):
    other = Service.objects.create(organization=resource.organization, name="Борода", price=1, duration_minutes=30)
    resource.services.add(service)
    data = {"user": user.pk, "resource": resource.pk, "service": other.pk, "date": "2026-03-03", "time": "12:00"}
    with time_machine.travel(at(8), tick=False):
        response = staff_client.post(reverse("admin:bookings_booking_add"), data)
    assert response.status_code == 200
    assert "не оказывает" in response.context["adminform"].form.errors["service"][0]
    assert not Booking.objects.filter(user=user).exists()


def test_actions_go_through_the_services(staff_client, booking):
    url = reverse("admin:bookings_booking_changelist")
    with time_machine.travel(at(8), tick=False):
        early = staff_client.post(url, {"action": "check_in", "_selected_action": [booking.pk]}, follow=True)
    assert early.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED  # check-in opens 30 minutes before the start
    with time_machine.travel(at(9, 50), tick=False):
        staff_client.post(url, {"action": "check_in", "_selected_action": [booking.pk]})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CHECKED_IN
    with time_machine.travel(at(9, 55), tick=False):
        staff_client.post(url, {"action": "cancel", "_selected_action": [booking.pk]}, follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CHECKED_IN  # a checked-in booking cannot be cancelled


def _schedule_form(rows):
    data = {
        "opening_hours-TOTAL_FORMS": str(len(rows)), "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-MIN_NUM_FORMS": "0", "opening_hours-MAX_NUM_FORMS": "1000",
        "closures-TOTAL_FORMS": "0", "closures-INITIAL_FORMS": "0",
        "closures-MIN_NUM_FORMS": "0", "closures-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, (weekday, opens, closes) in enumerate(rows):
        data |= {f"opening_hours-{i}-weekday": weekday, f"opening_hours-{i}-opens_at": opens,
                 f"opening_hours-{i}-closes_at": closes}  # fmt: skip
    return data


def test_opening_hours_edited_in_the_admin_follow_the_owners_rules(staff_client):
    # The schedule admin saved the rows directly, so overlapping hours of one day got in.
    from bookings.models import OpeningHours
    from catalog.tests.factories import OrganizationFactory

    org = OrganizationFactory()
    url = reverse("admin:bookings_organizationschedule_change", args=[org.pk])

    response = staff_client.post(url, _schedule_form([(0, "09:00", "13:00"), (0, "12:00", "18:00")]))
    assert response.status_code == 200
    errors = [e for inline in response.context["inline_admin_formsets"] for e in inline.formset.non_form_errors()]
    assert len(errors) == 1
    assert not OpeningHours.objects.filter(organization=org).exists()

    response = staff_client.post(url, _schedule_form([(0, "09:00", "13:00"), (0, "14:00", "18:00")]))
    assert response.status_code == 302
    assert OpeningHours.objects.filter(organization=org).count() == 2
