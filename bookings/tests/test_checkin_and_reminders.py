"""QR check-in (forgery, reuse, foreign organizations, windows) and reminders exactly once."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing

from bookings import services
from bookings.models import Booking, BookingReminder
from bookings.tests.clock import NOW, at
from bookings.tests.factories import ResourceFactory
from catalog.tests.factories import OrganizationFactory
from mailings.models import Notification
from portal import errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(user, resource):
    with time_machine.travel(NOW, tick=False):
        return services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))


def test_token_is_bound_to_the_booking(booking):
    token = services.checkin_token(booking)
    assert services.booking_from_token(token) == booking
    assert services.booking_from_token(services.checkin_url(booking)) == booking  # the whole scanned link


@pytest.mark.parametrize(
    "forge",
    [
        lambda b, t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered signature
        lambda b, t: signing.dumps({"b": b.pk, "c": b.checkin_code}, salt="another-salt"),  # wrong salt
        lambda b, t: signing.dumps({"b": b.pk, "c": "guessed"}, salt=services.CHECKIN_SALT),  # wrong code
        lambda b, t: signing.dumps({"b": b.pk + 1, "c": b.checkin_code}, salt=services.CHECKIN_SALT),
        lambda b, t: str(b.pk),
        lambda b, t: "",
    ],
    ids=["tampered", "salt", "code", "other-id", "bare-id", "empty"],
)
def test_forged_tokens_are_refused(booking, forge):
    owner = booking.resource.organization.owner
    token = forge(booking, services.checkin_token(booking))
    with time_machine.travel(at(9, 50), tick=False), pytest.raises(errors.ValidationError) as exc:
        services.booking_check_in_by_token(token=token, actor=owner)
    assert exc.value.code == "invalid_token"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_check_in_then_reuse_says_already(booking):
    owner = booking.resource.organization.owner
    token = services.checkin_token(booking)
    with time_machine.travel(at(9, 45), tick=False):
        first, already = services.booking_check_in_by_token(token=token, actor=owner)
    assert (first.status, already) == (Booking.Status.CHECKED_IN, False)
    with time_machine.travel(at(10, 20), tick=False):
        again, already = services.booking_check_in_by_token(token=token, actor=owner)
    assert already is True
    assert again.checked_in_at == at(9, 45)
    assert services.checkin_message(again, True) == "Уже отмечен в 09:45." or "09:45" in services.checkin_message(
        again, True
    )


def test_foreign_organization_owner_and_client_are_refused(booking, other_user):
    stranger_owner = OrganizationFactory().owner
    token = services.checkin_token(booking)
    with time_machine.travel(at(9, 50), tick=False):
        for actor in (stranger_owner, other_user, booking.user):
            with pytest.raises(errors.PermissionDenied) as exc:
                services.booking_check_in_by_token(token=token, actor=actor)
            assert exc.value.code == "foreign_booking"


def test_staff_can_check_in_any_booking(booking, staff_user):
    with time_machine.travel(at(10, 5), tick=False):
        checked, _ = services.booking_check_in_by_token(token=services.checkin_token(booking), actor=staff_user)
    assert checked.checked_in_by == staff_user


def test_too_early_too_late_and_cancelled(booking, settings):
    settings.BOOKING_CHECKIN_EARLY_MINUTES = 30
    owner = booking.resource.organization.owner
    token = services.checkin_token(booking)
    with time_machine.travel(at(9, 29), tick=False), pytest.raises(errors.Conflict) as exc:
        services.booking_check_in_by_token(token=token, actor=owner)
    assert exc.value.code == "too_early"
    with time_machine.travel(at(11), tick=False), pytest.raises(errors.Conflict) as exc:
        services.booking_check_in_by_token(token=token, actor=owner)
    assert exc.value.code == "too_late"
    with time_machine.travel(NOW, tick=False):
        services.booking_cancel(booking=booking, actor=booking.user)
    with time_machine.travel(at(10), tick=False), pytest.raises(errors.Conflict) as exc:
        services.booking_check_in_by_token(token=token, actor=owner)
    assert exc.value.code == "booking_cancelled"


# --- reminders -----------------------------------------------------------------------------


def reminders(user=None):
    queryset = Notification.objects.filter(kind="booking_reminder")
    if user is not None:
        queryset = queryset.filter(user=user)
    return list(queryset.order_by("pk"))


@pytest.fixture
def offsets(settings):
    settings.BOOKING_REMINDER_OFFSETS_MINUTES = [1440, 60]


def run_at(moment, times=1):
    sent = 0
    with time_machine.travel(moment, tick=False):
        for _ in range(times):
            sent += services.booking_reminders_send()
    return sent


def test_reminders_24h_and_1h_exactly_once_for_booker_and_participants(
    offsets, user, other_user, resource, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(9, day=1), tick=False):
        booking = services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
        services.booking_invite(booking=booking, actor=user, email=other_user.email)
        services.booking_accept(booking=booking, user=other_user)

    assert run_at(at(9, day=2), times=3) == 0  # 25 h before: nothing yet
    assert run_at(at(10, day=2), times=3) == 2  # 24 h: booker and participant, once
    assert run_at(at(10, 1, day=2), times=3) == 0
    assert run_at(at(9, day=3), times=3) == 2  # 1 h
    assert run_at(at(9, 30, day=3), times=3) == 0
    assert len(reminders(user)) == 2 and len(reminders(other_user)) == 2
    keys = {n.dedupe_key for n in reminders(user)}
    assert f"booking:{booking.pk}:reminder:{user.pk}:60:{booking.starts_at.astimezone(UTC).isoformat()}" in keys


def test_two_beat_processes_racing_send_once(offsets, user, resource):
    with time_machine.travel(at(9, day=1), tick=False):
        booking = services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
    # A second run that already claimed the row (another beat process) leaves nothing to send.
    BookingReminder.objects.create(booking=booking, user=user, offset_minutes=1440, starts_at=booking.starts_at)
    assert run_at(at(10, day=2)) == 0
    assert reminders(user) == []


def test_moved_booking_gets_reminders_for_its_new_time(offsets, user, resource):
    with time_machine.travel(at(9, day=1), tick=False):
        booking = services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
    assert run_at(at(10, day=2)) == 1
    with time_machine.travel(at(11, day=2), tick=False):
        services.booking_move(booking=booking, actor=user, starts_at=at(12, day=5))
    assert run_at(at(9, day=3)) == 0  # the old 1 h reminder is gone with the old time
    assert run_at(at(12, day=4), times=2) == 1  # new 24 h
    assert run_at(at(11, day=5), times=2) == 1  # new 1 h
    assert len(reminders(user)) == 3


def test_booking_made_late_skips_the_missed_offset_and_cancelled_gets_none(offsets, user, other_user, resource):
    with time_machine.travel(at(7, day=3), tick=False):
        late = services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
        cancelled = services.booking_create(
            user=other_user, resource=resource, starts_at=at(12, day=3), ends_at=at(13, day=3)
        )
        services.booking_cancel(booking=cancelled, actor=other_user)
    assert run_at(at(7, 1, day=3)) == 0  # the 24 h moment passed before it was booked
    assert run_at(at(9, day=3)) == 1
    assert run_at(at(11, day=3)) == 0
    assert [n.user for n in reminders()] == [user]
    assert late.pk


def test_after_a_pause_only_the_closest_reminder_goes_out(offsets, user, resource):
    with time_machine.travel(at(9, day=1), tick=False):
        services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
    assert run_at(at(9, 30, day=3)) == 1  # beat was down for a day: one reminder, not two
    assert run_at(at(9, 40, day=3)) == 0
    assert len(reminders(user)) == 1


def test_invitee_who_has_not_accepted_gets_no_reminders(offsets, user, other_user, resource):
    with time_machine.travel(at(9, day=1), tick=False):
        booking = services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
        services.booking_invite(booking=booking, actor=user, email=other_user.email)
    assert run_at(at(10, day=2)) == 1
    assert reminders(other_user) == []


def test_declined_participant_gets_no_reminders(offsets, user, other_user, resource):
    with time_machine.travel(at(9, day=1), tick=False):
        booking = services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
        services.booking_invite(booking=booking, actor=user, email=other_user.email)
        services.booking_decline(booking=booking, user=other_user)
    assert run_at(at(10, day=2)) == 1
    assert reminders(other_user) == []


def test_reminder_task_runs_the_service(offsets, user, resource):
    from bookings.tasks import mark_no_shows, send_booking_reminders

    with time_machine.travel(at(9, day=1), tick=False):
        services.booking_create(user=user, resource=resource, starts_at=at(10, day=3), ends_at=at(11, day=3))
    with time_machine.travel(at(10, day=2), tick=False):
        assert send_booking_reminders.delay().get() == 1
        assert send_booking_reminders.delay().get() == 0
    with time_machine.travel(at(12, day=3), tick=False):
        assert mark_no_shows.delay().get() == {"no_show": 1, "completed": 0}


def test_other_resource_in_another_city_shows_its_own_time(offsets, user, novosibirsk):
    from bookings.tests.factories import open_every_day

    org = OrganizationFactory(city=novosibirsk)
    open_every_day(org)
    resource = ResourceFactory(organization=org)
    nsk = ZoneInfo("Asia/Novosibirsk")
    with time_machine.travel(at(9, day=1), tick=False):
        booking = services.booking_create(
            user=user,
            resource=resource,
            starts_at=datetime(2026, 3, 3, 10, 0, tzinfo=nsk),
            ends_at=datetime(2026, 3, 3, 11, 0, tzinfo=nsk),
        )
    assert run_at(booking.starts_at - timedelta(hours=1)) == 1
    assert "3 марта 2026, 10:00" in reminders(user)[0].subject


def test_a_reminder_run_costs_the_same_few_queries_however_many_bookings(
    offsets, user, other_user, resource, django_assert_max_num_queries
):
    with time_machine.travel(at(9, day=1), tick=False):
        for hour in (10, 12, 14, 16):
            booking = services.booking_create(
                user=user, resource=resource, starts_at=at(hour, day=3), ends_at=at(hour + 1, day=3)
            )
            services.booking_invite(booking=booking, actor=user, email=other_user.email)
            services.booking_accept(booking=booking, user=other_user)
    assert run_at(at(17, day=2)) == 8  # 24 h reminders for the booker and the participant of each

    # Every minute after that: bookings, their participants, their claimed reminders; nothing per booking.
    with django_assert_max_num_queries(3):
        assert run_at(at(17, 1, day=2)) == 0
