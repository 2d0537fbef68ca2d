"""portal.signals.user_erasing in bookings: future bookings cancelled, participations removed."""

from datetime import timedelta

import pytest

from bookings import services
from bookings.models import Booking, BookingParticipant
from bookings.tests.clock import at
from bookings.tests.factories import BookingFactory
from mailings.models import Notification
from portal.services import user_delete
from portal.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_future_bookings_are_cancelled_even_inside_the_deadline(user, other_user, resource, settings):
    settings.BOOKING_CANCEL_DEADLINE_HOURS = 24
    soon = services.booking_create(user=user, resource=resource, starts_at=at(9, day=2), ends_at=at(10, day=2))
    later = services.booking_create(user=user, resource=resource, starts_at=at(10), ends_at=at(11))
    services.booking_invite(booking=later, actor=user, email=other_user.email)
    Notification.objects.all().delete()

    user_delete(user=user)

    for booking in (soon, later):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert booking.cancelled_by_id == user.pk and booking.user_id == user.pk
    # the invited participant is told as for any cancellation; the deleted booker is not
    assert Notification.objects.filter(user=other_user, kind="booking_cancelled").count() == 1
    assert not Notification.objects.filter(user=user).exists()


def test_past_running_and_finished_bookings_stay(user, resource, frozen_now):
    past = BookingFactory(user=user, resource=resource, starts_at=frozen_now - timedelta(days=1))
    running = BookingFactory(
        user=user, resource=resource, starts_at=frozen_now - timedelta(minutes=30), status=Booking.Status.CHECKED_IN
    )
    done = BookingFactory(
        user=user, resource=resource, starts_at=frozen_now - timedelta(days=2), status=Booking.Status.COMPLETED
    )
    before = {b.pk: b.status for b in (past, running, done)}

    user_delete(user=user)

    assert dict(Booking.objects.filter(user=user).values_list("pk", "status")) == before


def test_participations_in_future_bookings_of_others_are_removed(user, other_user, resource, frozen_now):
    future = services.booking_create(user=other_user, resource=resource, starts_at=at(10), ends_at=at(11))
    services.booking_invite(booking=future, actor=other_user, email=user.email)
    past = BookingFactory(user=other_user, resource=resource, starts_at=frozen_now - timedelta(days=1))
    BookingParticipant.objects.create(booking=past, user=user)
    bystander = UserFactory()
    services.booking_invite(booking=future, actor=other_user, email=bystander.email)

    user_delete(user=user)

    assert list(BookingParticipant.objects.filter(user=user).values_list("booking_id", flat=True)) == [past.pk]
    assert BookingParticipant.objects.filter(booking=future, user=bystander).exists()
    future.refresh_from_db()
    assert future.status == Booking.Status.CONFIRMED


def test_another_users_bookings_are_untouched(user, other_user, resource):
    theirs = services.booking_create(user=other_user, resource=resource, starts_at=at(12), ends_at=at(13))

    user_delete(user=user)

    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.CONFIRMED


def test_the_booker_still_cannot_cancel_late_without_deleting(user, resource, settings):
    settings.BOOKING_CANCEL_DEADLINE_HOURS = 24
    soon = services.booking_create(user=user, resource=resource, starts_at=at(9, day=2), ends_at=at(10, day=2))

    from portal import errors

    with pytest.raises(errors.Conflict):
        services.booking_cancel(booking=soon, actor=user)


def test_the_clients_note_and_phone_are_erased_and_the_owner_is_told_without_them(user, resource, frozen_now):
    past = BookingFactory(
        resource=resource,
        user=user,
        starts_at=at(8, day=1),
        ends_at=at(9, day=1),
        comment="Аллергия",
        phone="+79990001122",
    )
    future = services.booking_create(
        user=user, resource=resource, starts_at=at(10), ends_at=at(11), comment="Опоздаю", phone="+79990001122"
    )

    services.bookings_release_user(user=user)

    past.refresh_from_db()
    future.refresh_from_db()
    assert (past.comment, past.phone, future.comment, future.phone) == ("", "", "", "")
    notice = Notification.objects.get(user=resource.organization.owner, kind="booking_owner_cancelled")
    assert "клиент удалил(а) аккаунт" in notice.text
    assert user.email not in notice.text and "+79990001122" not in notice.text and user.last_name not in notice.text
