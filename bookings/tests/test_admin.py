"""The bookings back office: bookings change only through the booking rules."""

import pytest
import time_machine
from django.urls import reverse

from bookings import services
from bookings.models import Booking
from bookings.tests.clock import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(user, resource):
    with time_machine.travel(at(8, day=2), tick=False):
        return services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))


def test_change_form_cannot_move_a_booking_around_the_rules(staff_client, booking, other_user):
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    form = staff_client.get(url)
    assert form.status_code == 200
    # given: a post that tries to move the booking into closed hours and hand it to someone else
    data = {
        "resource": booking.resource_id,
        "user": other_user.pk,
        "starts_at_0": "2026-03-03",
        "starts_at_1": "23:00",
        "ends_at_0": "2026-03-04",
        "ends_at_1": "02:00",
        "participant_links-TOTAL_FORMS": "0",
        "participant_links-INITIAL_FORMS": "0",
        "participant_links-MIN_NUM_FORMS": "0",
        "participant_links-MAX_NUM_FORMS": "1000",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at, booking.user_id) == (at(10), at(11), booking.user.pk)


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
