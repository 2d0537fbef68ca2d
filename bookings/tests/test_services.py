"""Booking rules: overlaps, back-to-back, opening hours, limits, moves and cancellation."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from bookings import services
from bookings.models import Booking
from bookings.tests.clock import MSK, at
from bookings.tests.factories import BookingFactory, ResourceFactory
from catalog.models import Organization
from catalog.tests.factories import ServiceFactory
from mailings.models import Notification
from portal import errors
from portal.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def book(user, resource, start, end, **kwargs):
    return services.booking_create(user=user, resource=resource, starts_at=start, ends_at=end, **kwargs)


def test_create_confirms_and_notifies(user, resource):
    booking = book(user, resource, at(10), at(11))

    assert booking.status == Booking.Status.CONFIRMED
    assert booking.starts_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    notification = Notification.objects.get(user=user, kind="booking_confirmed")
    assert "3 марта 2026, 10:00" in notification.subject


def test_back_to_back_bookings_are_allowed(user, other_user, resource):
    book(user, resource, at(10), at(11))
    second = book(other_user, resource, at(11), at(12))
    third = book(other_user, resource, at(9), at(10))
    assert {second.status, third.status} == {Booking.Status.CONFIRMED}


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ((10, 15), (10, 45)),  # inside
        ((9, 30), (11, 30)),  # covering
        ((9, 30), (10, 30)),  # straddling the start
        ((10, 30), (11, 30)),  # straddling the end
        ((10, 0), (11, 0)),  # identical
    ],
    ids=["inside", "covering", "straddle-start", "straddle-end", "identical"],
)
def test_overlaps_are_refused_with_the_conflict_time(user, other_user, resource, start, end):
    book(user, resource, at(10), at(11))

    with pytest.raises(errors.SlotTaken) as exc:
        book(other_user, resource, at(*start), at(*end))

    assert exc.value.code == "slot_taken"
    assert "10:00" in exc.value.message and "11:00" in exc.value.message
    assert exc.value.extra["conflict_starts_at"] == datetime(2026, 3, 3, 7, 0, tzinfo=UTC).isoformat()
    assert Booking.objects.count() == 1


def test_cancelled_booking_frees_the_time(user, other_user, resource):
    first = book(user, resource, at(10), at(11))
    services.booking_cancel(booking=first, actor=user)
    assert book(other_user, resource, at(10), at(11)).status == Booking.Status.CONFIRMED


def test_other_resource_same_time_is_fine(user, resource):
    other = ResourceFactory(organization=resource.organization)
    book(user, resource, at(10), at(11))
    assert book(user, other, at(10), at(11)).resource == other


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (datetime(2026, 3, 2, 7, 0, tzinfo=MSK), datetime(2026, 3, 2, 7, 30, tzinfo=MSK), "in_the_past"),
        (at(8), at(9, 30), "closed"),
        (at(20, 30), at(21, 30), "closed"),
        (at(11), at(10), "invalid_range"),
        (at(9), at(21, 30, day=3) - timedelta(minutes=30) + timedelta(hours=0), None),
    ],
)
def test_rules(user, resource, start, end, code, settings):
    settings.BOOKING_MAX_LENGTH_HOURS = 12
    if code is None:
        assert book(user, resource, start, end).pk
        return
    with pytest.raises(errors.ValidationError) as exc:
        book(user, resource, start, end)
    assert exc.value.code == code
    assert Booking.objects.count() == 0


def test_maximum_length(user, resource, settings):
    settings.BOOKING_MAX_LENGTH_HOURS = 2
    with pytest.raises(errors.ValidationError) as exc:
        book(user, resource, at(10), at(12, 15))
    assert exc.value.code == "too_long"


def test_service_sets_the_duration(user, resource, service):
    booking = services.booking_create(user=user, resource=resource, service=service, starts_at=at(10))
    assert booking.ends_at - booking.starts_at == timedelta(minutes=service.duration_minutes)
    with pytest.raises(errors.ValidationError) as exc:
        services.booking_create(user=user, resource=resource, service=service, starts_at=at(12), ends_at=at(12, 30))
    assert exc.value.code == "invalid_duration"
    foreign = ServiceFactory()
    with pytest.raises(errors.ValidationError) as exc:
        services.booking_create(user=user, resource=resource, service=foreign, starts_at=at(14))
    assert exc.value.code == "invalid_service"


def test_blocked_user_inactive_resource_hidden_organization(user, resource):
    user.is_blocked = True
    user.save()
    with pytest.raises(errors.UserBlocked):
        book(user, resource, at(10), at(11))
    fine = UserFactory()
    resource.is_active = False
    resource.save()
    with pytest.raises(errors.ValidationError) as exc:
        book(fine, resource, at(10), at(11))
    assert exc.value.code == "resource_inactive"
    resource.is_active = True
    resource.save()
    Organization.objects.filter(pk=resource.organization_id).update(status=Organization.Status.HIDDEN)
    with pytest.raises(errors.ValidationError) as exc:
        book(fine, resource, at(10), at(11))
    assert exc.value.code == "organization_unavailable"
    assert Booking.objects.count() == 0


def test_move_checks_and_keeps_own_slot(user, other_user, resource):
    mine = book(user, resource, at(10), at(11))
    book(other_user, resource, at(12), at(13))

    moved = services.booking_move(booking=mine, actor=user, starts_at=at(10, 30))  # overlaps only itself
    assert (moved.starts_at, moved.ends_at) == (at(10, 30), at(11, 30))
    with pytest.raises(errors.SlotTaken):
        services.booking_move(booking=mine, actor=user, starts_at=at(12, 30))
    with pytest.raises(errors.PermissionDenied):
        services.booking_move(booking=mine, actor=other_user, starts_at=at(15))
    mine.refresh_from_db()
    assert mine.starts_at == at(10, 30)


def test_cancel_deadline_for_booker_owner_any_time(user, other_user, resource, settings):
    settings.BOOKING_CANCEL_DEADLINE_HOURS = 2
    soon = book(user, resource, datetime(2026, 3, 2, 9, 30, tzinfo=MSK), datetime(2026, 3, 2, 10, 30, tzinfo=MSK))
    with pytest.raises(errors.Conflict) as exc:
        services.booking_cancel(booking=soon, actor=user)
    assert exc.value.code == "cancel_deadline_passed"
    with pytest.raises(errors.PermissionDenied):
        services.booking_cancel(booking=soon, actor=other_user)
    owner = resource.organization.owner
    cancelled = services.booking_cancel(booking=soon, actor=owner)
    assert cancelled.status == Booking.Status.CANCELLED and cancelled.cancelled_by == owner
    assert Notification.objects.filter(user=user, kind="booking_cancelled").count() == 1
    # Cancelling again changes nothing and sends nothing.
    services.booking_cancel(booking=soon, actor=owner)
    assert Notification.objects.filter(user=user, kind="booking_cancelled").count() == 1

    later = book(user, resource, at(10), at(11))
    assert services.booking_cancel(booking=later, actor=user).status == Booking.Status.CANCELLED


def test_participants_invite_accept_and_decline(user, other_user, resource):
    resource.capacity = 2
    resource.save()
    booking = book(user, resource, at(10), at(11))
    assert services.booking_invite(booking=booking, actor=user, email=other_user.email.upper()) is None
    link = booking.participant_links.get(user=other_user)
    assert link.status == "invited"
    assert Notification.objects.filter(user=other_user, kind="booking_invitation").exists()
    # Pending invitations do not take a seat: the capacity counts who accepted.
    third = UserFactory()
    services.booking_invite(booking=booking, actor=user, email=third.email)
    assert services.booking_accept(booking=booking, user=other_user).status == "accepted"
    with pytest.raises(errors.Conflict) as exc:
        services.booking_accept(booking=booking, user=third)
    assert exc.value.code == "capacity_exceeded"
    with pytest.raises(errors.Conflict) as exc:
        services.booking_invite(booking=booking, actor=user, email="nobody@example.com")
    assert exc.value.code == "capacity_exceeded"
    with pytest.raises(errors.PermissionDenied):
        services.booking_invite(booking=booking, actor=other_user, email=third.email)
    with pytest.raises(errors.ValidationError):
        services.booking_invite(booking=booking, actor=user, email=f"  {user.email.upper()} ")
    assert services.booking_decline(booking=booking, user=other_user).status == "declined"
    assert services.booking_accept(booking=booking, user=third).status == "accepted"
    with pytest.raises(errors.NotFound):
        services.booking_accept(booking=booking, user=UserFactory())
    with pytest.raises(errors.NotFound):
        services.booking_decline(booking=booking, user=UserFactory())


def test_inviting_an_unknown_or_blocked_email_stores_and_sends_nothing(user, resource):
    booking = book(user, resource, at(10), at(11))
    blocked = UserFactory(is_blocked=True)

    assert services.booking_invite(booking=booking, actor=user, email="nobody@example.com") is None
    assert services.booking_invite(booking=booking, actor=user, email=blocked.email) is None

    assert booking.participant_links.count() == 0
    assert not Notification.objects.filter(kind="booking_invitation").exists()


def test_accepting_a_cancelled_booking_is_refused(user, other_user, resource):
    booking = book(user, resource, at(10), at(11))
    services.booking_invite(booking=booking, actor=user, email=other_user.email)
    services.booking_cancel(booking=booking, actor=user)
    # The pending invitee hears about the cancellation too.
    assert Notification.objects.filter(user=other_user, kind="booking_cancelled").exists()
    with pytest.raises(errors.Conflict) as exc:
        services.booking_accept(booking=booking, user=other_user)
    assert exc.value.code == "booking_not_active"


def test_mark_no_shows(user, resource):
    past_confirmed = BookingFactory(resource=resource, starts_at=at(6, day=1), ends_at=at(7, day=1))
    past_checked = BookingFactory(
        resource=resource, starts_at=at(8, day=1), ends_at=at(9, day=1), status=Booking.Status.CHECKED_IN
    )
    future = BookingFactory(resource=resource, starts_at=at(10), ends_at=at(11))

    assert services.booking_mark_no_shows() == {"no_show": 1, "completed": 1}
    assert services.booking_mark_no_shows() == {"no_show": 0, "completed": 0}
    past_confirmed.refresh_from_db()
    past_checked.refresh_from_db()
    future.refresh_from_db()
    assert (past_confirmed.status, past_checked.status, future.status) == ("no_show", "completed", "confirmed")


def test_opening_hours_replace_validates(resource):
    owner = resource.organization.owner
    with pytest.raises(errors.ValidationError):
        services.opening_hours_replace(
            actor=owner, organization=resource.organization, intervals=[(0, time(9), time(13)), (0, time(12), time(15))]
        )
    rows = services.opening_hours_replace(
        actor=owner, organization=resource.organization, intervals=[(0, time(9), time(13)), (0, time(14), time(0))]
    )
    assert len(rows) == 2
    with pytest.raises(errors.PermissionDenied):
        services.opening_hours_replace(actor=UserFactory(), organization=resource.organization, intervals=[])


@pytest.mark.postgres
def test_exclusion_constraint_refuses_overlap_written_around_the_service(user, resource):
    BookingFactory(resource=resource, starts_at=at(10), ends_at=at(11))
    BookingFactory(resource=resource, starts_at=at(11), ends_at=at(12))  # back-to-back passes
    BookingFactory(resource=resource, starts_at=at(10), ends_at=at(11), status=Booking.Status.CANCELLED)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        BookingFactory(resource=resource, starts_at=at(10, 30), ends_at=at(11, 30))
    assert "booking_no_overlap" in str(exc.value)
    assert services._is_overlap_violation(exc.value)


@pytest.mark.postgres
def test_btree_gist_extension_is_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_exclusion_constraint_validation_skips_when_status_is_not_being_validated(user, resource):
    BookingFactory(resource=resource, starts_at=at(10), ends_at=at(11))
    overlapping = Booking(resource=resource, user=user, starts_at=at(10, 30), ends_at=at(11, 30))
    (constraint,) = [c for c in Booking._meta.constraints if c.name == services.EXCLUSION_CONSTRAINT]

    constraint.validate(Booking, overlapping, exclude={"status"})  # a form without the status field

    with pytest.raises(ValidationError):
        constraint.validate(Booking, overlapping)
