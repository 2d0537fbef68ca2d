"""Bookings services: every write with a business rule lives here.

Times are aware datetimes; the database keeps UTC and the organization's city
zone is used only to read opening hours and to show times to people.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import parse_qs, urlencode, urlparse
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.hours import is_open_for
from bookings.models import Booking, BookingParticipant, BookingReminder, OpeningHours, Resource, Review
from bookings.zones import city_zone_label
from catalog.models import Organization, Service
from catalog.selectors import organization_can_manage
from catalog.services import organization_rating_set
from mailings.channels import AppLink
from mailings.services import notify
from portal import errors, metrics
from portal.formatting import TIME_FORMAT, datetime_format
from portal.models import User
from portal.phones import phone_normalize
from portal.services import actor_ensure_active, user_profile_update

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations

logger = logging.getLogger(__name__)

CHECKIN_SALT = "bookings.checkin"
EXCLUSION_CONSTRAINT = "booking_no_overlap"


# --- formatting helpers -------------------------------------------------------


def _zone(booking_or_resource: Booking | Resource) -> ZoneInfo:
    resource = booking_or_resource.resource if isinstance(booking_or_resource, Booking) else booking_or_resource
    return resource.organization.city.tzinfo


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def notice_context(booking: Booking) -> dict[str, Any]:
    """The JSON-serialisable context every booking notification gets (times in the site language)."""
    zone = _zone(booking)
    language = settings.LANGUAGE_CODE
    organization = booking.resource.organization
    return {
        "booking_id": booking.pk,
        "resource": booking.resource.name,
        "service": booking.service.name if booking.service is not None else "",
        "organization": organization.name,
        "address": organization.address,
        "city": organization.city.name,
        "timezone": organization.city.timezone,
        "zone": city_zone_label(organization.city, booking.starts_at),
        "starts_at": booking.starts_at.isoformat(),
        "starts_local": datetime_format(booking.starts_at, zone=zone, language=language),
        "ends_local": datetime_format(booking.ends_at, zone=zone, fmt=TIME_FORMAT, language=language),
        "url": reverse("bookings:detail", args=[booking.pk]),
    }


BOOKING_START_PREFIX = "booking_"


def booking_app_link(booking: Booking) -> AppLink:
    """The button of a booking's notifications: its page, in the Mini App where the channel can."""
    return AppLink(
        text=gettext_lazy("Open the booking"),
        path=reverse("bookings:detail", args=[booking.pk]),
        start_param=f"{BOOKING_START_PREFIX}{booking.pk}",
    )


# --- permissions ----------------------------------------------------------------


def _ensure_manager(actor: User, organization: Organization) -> None:
    actor_ensure_active(actor)
    if not organization_can_manage(user=actor, organization=organization):
        raise errors.PermissionDenied(_("Only the organization's owner or staff can do this."))


# --- booking rules ----------------------------------------------------------------


def _resolve_end(
    *, starts_at: datetime, ends_at: datetime | None, service: Service | None, resource: Resource
) -> datetime:
    if service is not None:
        if service.organization_id != resource.organization_id or not service.is_active:
            raise errors.ValidationError(_("This service is not offered here."), code="invalid_service")
        if not resource.offers(service):
            raise errors.ValidationError(
                _("%(resource)s does not offer «%(service)s».") % {"resource": resource.name, "service": service.name},
                code="service_not_offered",
            )
        expected = starts_at + timedelta(minutes=service.duration_minutes)
        if ends_at is not None and ends_at != expected:
            raise errors.ValidationError(
                _("The service takes %(minutes)s minutes.") % {"minutes": service.duration_minutes},
                code="invalid_duration",
            )
        return expected
    if ends_at is None:
        raise errors.ValidationError(_("Choose a service or an end time."), code="invalid_range")
    return ends_at


def _check_times(*, resource: Resource, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise errors.ValidationError(_("Times must include a time zone."), code="invalid_range")
    if ends_at <= starts_at:
        raise errors.ValidationError(_("The booking must end after it starts."), code="invalid_range")
    if starts_at < now:
        raise errors.ValidationError(_("This time is in the past."), code="in_the_past")
    max_hours = settings.BOOKING_MAX_LENGTH_HOURS
    if ends_at - starts_at > timedelta(hours=max_hours):
        raise errors.ValidationError(
            _("A booking can last at most %(hours)s hours.") % {"hours": max_hours}, code="too_long"
        )
    if not is_open_for(organization=resource.organization, start=starts_at, end=ends_at):
        raise errors.ValidationError(
            _("%(organization)s is closed at this time.") % {"organization": resource.organization.name},
            code="closed",
        )


class _Visibility(TypedDict):
    organization_visible: bool


def _check_resource(resource: WithAnnotations[Resource, _Visibility]) -> None:
    """``resource`` comes from _lock_resource, which reads the organization's visibility."""
    if not resource.is_active:
        raise errors.ValidationError(_("This resource cannot be booked."), code="resource_inactive")
    if not resource.organization_visible:
        raise errors.ValidationError(
            _("This organization does not take bookings now."), code="organization_unavailable"
        )


def _slot_taken(conflict: Booking | None, resource: Resource) -> errors.SlotTaken:
    if conflict is None:
        return errors.SlotTaken(_("This time has just been booked by someone else."))
    zone = _zone(resource)
    message = _("This time is taken: %(resource)s is booked from %(start)s to %(end)s.") % {
        "resource": resource.name,
        "start": datetime_format(conflict.starts_at, zone=zone),
        "end": datetime_format(conflict.ends_at, zone=zone, fmt=TIME_FORMAT),
    }
    return errors.SlotTaken(
        message,
        extra={
            "conflict_starts_at": conflict.starts_at.isoformat(),
            "conflict_ends_at": conflict.ends_at.isoformat(),
        },
    )


def _find_conflict(
    *, resource: Resource, starts_at: datetime, ends_at: datetime, exclude_pk: int | None = None
) -> Booking | None:
    queryset = Booking.objects.filter(resource=resource).active().overlapping(starts_at, ends_at)
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.order_by("starts_at").first()


def _is_overlap_violation(exc: IntegrityError) -> bool:
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    return name == EXCLUSION_CONSTRAINT or EXCLUSION_CONSTRAINT in str(exc)


def _save_guarded(booking: Booking, *, resource: Resource, **save_kwargs: Any) -> None:
    """Save under a savepoint; the exclusion constraint's refusal becomes SlotTaken."""
    try:
        with transaction.atomic():
            booking.save(**save_kwargs)
    except IntegrityError as exc:
        if not _is_overlap_violation(exc):
            raise
        conflict = _find_conflict(
            resource=resource, starts_at=booking.starts_at, ends_at=booking.ends_at, exclude_pk=booking.pk
        )
        raise _slot_taken(conflict, resource) from exc


def _lock_resource(resource: Resource) -> WithAnnotations[Resource, _Visibility]:
    """Lock the resource row: bookings of one resource are decided one at a time.

    Only the resource row is locked (``of``), so bookings of other resources of
    the same organization or city do not wait. The organization's catalog
    visibility comes along in the same query.
    """
    return (
        Resource.objects.select_for_update(of=("self",))
        .select_related("organization__city")
        .annotate(organization_visible=Exists(Organization.objects.visible().filter(pk=OuterRef("organization_id"))))
        .get(pk=resource.pk)
    )


def _notify_confirmed(booking: Booking) -> None:
    notify(
        user=booking.user,
        kind="booking_confirmed",
        app_link=booking_app_link(booking),
        context=notice_context(booking),
        dedupe_key=f"booking:{booking.pk}:confirmed:{_iso_utc(booking.starts_at)}",
    )


OWNER_NOTICE_KINDS = {
    "created": "booking_owner_created",
    "moved": "booking_owner_moved",
    "cancelled": "booking_owner_cancelled",
}


def owner_day_url(booking: Booking) -> str:
    """The owner's day view of the booking's date, where it can be checked in."""
    zone = _zone(booking)
    day = timezone.localtime(booking.starts_at, zone).date().isoformat()
    return f"{reverse('bookings:owner_bookings', args=[booking.resource.organization_id])}?{urlencode({'date': day})}"


def _notify_owner(booking: Booking, *, event: str, actor: User | None, account_deleted: bool = False) -> None:
    """Tell the organization's owner about a booking of theirs created, moved or cancelled.

    Not when the owner did it themselves. One notice per booking and event
    (per start time for a move), whatever the retries. A cancellation caused
    by the client deleting their account names nobody and carries no contact.
    """
    owner = booking.resource.organization.owner
    if owner is None or (actor is not None and actor.pk == owner.pk):
        return
    client = booking.user
    key = f"booking:{booking.pk}:owner:{owner.pk}:{event}"
    if event == "moved":
        key += f":{_iso_utc(booking.starts_at)}"
    who: dict[str, Any]
    if account_deleted:
        who = {"client": _("the client deleted their account"), "phone": "", "comment": "", "account_deleted": True}
    else:
        who = {
            "client": client.get_full_name() or client.email,
            "phone": booking.phone or client.phone or "",
            "comment": booking.comment,
        }
    notify(
        user=owner,
        kind=OWNER_NOTICE_KINDS[event],
        context={
            **notice_context(booking),
            **who,
            "owner_url": owner_day_url(booking),
            "by_client": actor is not None and actor.pk == client.pk,
        },
        dedupe_key=key,
    )


COMMENT_MAX_LENGTH = 500


def _clean_note(*, comment: str, phone: str) -> tuple[str, str]:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise errors.ValidationError(
            _("The comment can be at most %(count)s characters.") % {"count": COMMENT_MAX_LENGTH},
            code="invalid",
            extra={"field": "comment"},
        )
    try:
        phone = phone_normalize(phone)
    except errors.ValidationError as exc:
        raise errors.ValidationError(exc.message, code=exc.code, extra={"field": "phone"}) from exc
    return comment, phone


@transaction.atomic
def booking_create(
    *,
    user: User,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime | None = None,
    service: Service | None = None,
    comment: str = "",
    phone: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book ``resource`` for ``user`` from ``starts_at``.

    With a ``service`` the end follows from its duration, and the resource must
    offer it. Refuses times in the past, outside opening hours or longer than
    BOOKING_MAX_LENGTH_HOURS, blocked users, inactive resources and hidden
    organizations. Overlapping an active booking raises SlotTaken naming the
    conflicting time; the check runs with the resource row locked and the
    PostgreSQL exclusion constraint backs it.

    ``comment`` and ``phone`` are the client's note and contact for the owner;
    a phone given by a user whose profile has none is saved to the profile too.
    ``actor`` is who makes the booking when it is not ``user`` (staff in the
    admin, who must be allowed to manage the organization). The booker is
    sent a confirmation and the organization's owner a notice.
    """
    now = now or timezone.now()
    actor = actor or user
    actor_ensure_active(user)
    comment, phone = _clean_note(comment=comment, phone=phone)
    resource = _lock_resource(resource)
    if actor.pk != user.pk:
        _ensure_manager(actor, resource.organization)
    _check_resource(resource)
    ends_at = _resolve_end(starts_at=starts_at, ends_at=ends_at, service=service, resource=resource)
    _check_times(resource=resource, starts_at=starts_at, ends_at=ends_at, now=now)
    conflict = _find_conflict(resource=resource, starts_at=starts_at, ends_at=ends_at)
    if conflict is not None:
        metrics.bookings_total.labels(result="conflict").inc()
        raise _slot_taken(conflict, resource)
    booking = Booking(
        resource=resource,
        service=service,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        status=Booking.Status.CONFIRMED,
        scheduled_at=now,
        comment=comment,
        phone=phone,
    )
    try:
        _save_guarded(booking, resource=resource)
    except errors.SlotTaken:
        metrics.bookings_total.labels(result="conflict").inc()
        raise
    metrics.count_after_commit(metrics.bookings_total, result="created")
    if phone and not user.phone and actor.pk == user.pk:
        user_profile_update(user=user, phone=phone)
    _notify_confirmed(booking)
    _notify_owner(booking, event="created", actor=actor)
    return booking


def _lock_booking(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("resource__organization__city", "service", "user")
        .get(pk=booking.pk)
    )


@transaction.atomic
def booking_move(
    *,
    booking: Booking,
    actor: User,
    starts_at: datetime,
    ends_at: datetime | None = None,
    resource: Resource | None = None,
    now: datetime | None = None,
) -> Booking:
    """Change the time (and optionally the resource) of a pending or confirmed booking,
    with the same checks as creating one.

    The booker moves their booking; owners and staff may move any booking of
    their organization. Another ``resource`` must belong to the same
    organization and offer the booking's service. Reminders follow the new
    time; the booker gets a new confirmation and the owner a notice.
    """
    now = now or timezone.now()
    target = resource or booking.resource
    if target.organization_id != booking.resource.organization_id:
        raise errors.ValidationError(
            _("A booking can move only within its organization."), code="invalid_resource", extra={"field": "resource"}
        )
    # Lock both resources in pk order when the booking changes resource, so two opposite moves cannot deadlock.
    locked = {r.pk: _lock_resource(r) for r in sorted({booking.resource, target}, key=lambda r: r.pk)}
    resource = locked[target.pk]
    booking = _lock_booking(booking)
    if booking.user_id != actor.pk:
        _ensure_manager(actor, resource.organization)
    else:
        actor_ensure_active(actor)
    if booking.status not in Booking.UPCOMING_STATUSES:
        raise errors.Conflict(_("Only an upcoming booking can be moved."), code="booking_not_movable")
    _check_resource(resource)
    if ends_at is None and not booking.service_id:
        ends_at = starts_at + (booking.ends_at - booking.starts_at)
    ends_at = _resolve_end(starts_at=starts_at, ends_at=ends_at, service=booking.service, resource=resource)
    _check_times(resource=resource, starts_at=starts_at, ends_at=ends_at, now=now)
    conflict = _find_conflict(resource=resource, starts_at=starts_at, ends_at=ends_at, exclude_pk=booking.pk)
    if conflict is not None:
        raise _slot_taken(conflict, resource)
    if (booking.starts_at, booking.ends_at, booking.resource_id) == (starts_at, ends_at, resource.pk):
        return booking
    booking.starts_at = starts_at
    booking.ends_at = ends_at
    booking.resource = resource
    booking.scheduled_at = now
    _save_guarded(
        booking, resource=resource, update_fields=["starts_at", "ends_at", "resource", "scheduled_at", "updated_at"]
    )
    _notify_confirmed(booking)
    _notify_owner(booking, event="moved", actor=actor)
    return booking


@transaction.atomic
def booking_note_update(
    *, booking: Booking, actor: User, comment: str | None = None, phone: str | None = None
) -> Booking:
    """Change the client's comment or contact phone of a booking (the booker, owners and staff)."""
    booking = _lock_booking(booking)
    if booking.user_id != actor.pk:
        _ensure_manager(actor, booking.resource.organization)
    new_comment, new_phone = _clean_note(
        comment=booking.comment if comment is None else comment, phone=booking.phone if phone is None else phone
    )
    if (new_comment, new_phone) != (booking.comment, booking.phone):
        booking.comment, booking.phone = new_comment, new_phone
        booking.save(update_fields=["comment", "phone", "updated_at"])
    return booking


def cancel_deadline_for(starts_at: datetime) -> datetime:
    """Until when the booker can cancel a booking starting at ``starts_at`` (owners and staff: any time)."""
    return starts_at - timedelta(hours=settings.BOOKING_CANCEL_DEADLINE_HOURS)


def cancel_deadline(booking: Booking) -> datetime:
    return cancel_deadline_for(booking.starts_at)


def can_cancel(*, booking: Booking, user: User, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if booking.status not in Booking.UPCOMING_STATUSES:
        return False
    if organization_can_manage(user=user, organization=booking.resource.organization):
        return True
    return booking.user_id == user.pk and now <= cancel_deadline(booking)


@transaction.atomic
def booking_cancel(
    *, booking: Booking, actor: User, now: datetime | None = None, account_deleted: bool = False
) -> Booking:
    """Cancel a booking: the booker until BOOKING_CANCEL_DEADLINE_HOURS before start, owners and staff any time.

    Cancelling a cancelled booking returns it unchanged. The booker and the
    participants are told. ``account_deleted``: the booker (``actor``) is
    deleting their account (``bookings_release_user``), so the deadline does
    not apply (nobody will come) and only the participants are told.
    """
    now = now or timezone.now()
    booking = _lock_booking(booking)
    is_manager = organization_can_manage(user=actor, organization=booking.resource.organization)
    if booking.user_id != actor.pk and not is_manager:
        raise errors.PermissionDenied(_("Only the booker can cancel this booking."))
    if booking.status == Booking.Status.CANCELLED:
        return booking
    if booking.status not in Booking.UPCOMING_STATUSES:
        raise errors.Conflict(_("This booking can no longer be cancelled."), code="booking_not_cancellable")
    if not is_manager and not account_deleted and now > cancel_deadline(booking):
        raise errors.Conflict(
            _("Bookings can be cancelled up to %(hours)s hours before the start.")
            % {"hours": settings.BOOKING_CANCEL_DEADLINE_HOURS},
            code="cancel_deadline_passed",
        )
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = actor
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])

    context = {**notice_context(booking), "by_owner": booking.user_id != actor.pk}
    recipients: list[User] = [] if account_deleted else [booking.user]
    recipients += [
        link.user
        for link in booking.participant_links.select_related("user").exclude(status=BookingParticipant.Status.DECLINED)
    ]
    for recipient in recipients:
        notify(
            user=recipient,
            kind="booking_cancelled",
            app_link=booking_app_link(booking),
            context=context,
            dedupe_key=f"booking:{booking.pk}:cancelled:{recipient.pk}",
        )
    _notify_owner(booking, event="cancelled", actor=actor, account_deleted=account_deleted)
    return booking


# --- participants -------------------------------------------------------------------


#: What the booker is told after any invitation, whether or not the email is registered.
INVITATION_SENT_MESSAGE = gettext_lazy(
    "Invitation sent. If this email belongs to a Citydesk user, they get a notification "
    "and appear among the participants once they accept."
)


def _ensure_room_for_one_more(booking: Booking, *, exclude_user: User | None = None) -> None:
    """The booker, the accepted participants and one more must fit the resource's capacity."""
    capacity = booking.resource.capacity
    if not capacity:
        return
    accepted = booking.participant_links.filter(status=BookingParticipant.Status.ACCEPTED)
    if exclude_user is not None:
        accepted = accepted.exclude(user=exclude_user)
    if accepted.count() + 2 > capacity:
        raise errors.Conflict(
            _("%(resource)s fits at most %(capacity)s people.")
            % {"resource": booking.resource.name, "capacity": capacity},
            code="capacity_exceeded",
        )


@transaction.atomic
def booking_invite(*, booking: Booking, actor: User, email: str) -> None:
    """The booker invites someone by email to take part.

    The outcome the booker sees is the same whether or not the email is
    registered, so the invitation cannot be used to find out who has an
    account: an active user with that email gets a ``booking_invitation``
    notification and becomes a participant when they accept
    (``booking_accept``); for any other address nothing is stored or sent
    (the site does not email strangers on a user's behalf). Returns nothing
    for the same reason.
    """
    booking = _lock_booking(booking)
    if booking.user_id != actor.pk:
        raise errors.PermissionDenied(_("Only the booker can invite participants."))
    if booking.status not in Booking.UPCOMING_STATUSES:
        raise errors.Conflict(_("Only an upcoming booking can have new participants."), code="booking_not_active")
    email = (email or "").strip()
    if email.casefold() == (actor.email or "").casefold():
        raise errors.ValidationError(_("You already take part in your booking."), code="invalid")
    _ensure_room_for_one_more(booking)
    invitee = User.objects.active().filter(email__iexact=email).exclude(pk=booking.user_id).first()
    if invitee is None:
        return
    link, created = BookingParticipant.objects.get_or_create(booking=booking, user=invitee)
    if not created and link.status == BookingParticipant.Status.DECLINED:
        link.status = BookingParticipant.Status.INVITED
        link.responded_at = None
        link.save(update_fields=["status", "responded_at"])
    if created:
        notify(
            user=invitee,
            kind="booking_invitation",
            app_link=booking_app_link(booking),
            context={**notice_context(booking), "booker": booking.user.get_full_name() or booking.user.email},
            dedupe_key=f"booking:{booking.pk}:invitation:{invitee.pk}",
        )


@transaction.atomic
def booking_accept(*, booking: Booking, user: User, now: datetime | None = None) -> BookingParticipant:
    """The invitee accepts: they take part (the booker sees them) and get reminders from now on."""
    booking = _lock_booking(booking)
    link = BookingParticipant.objects.select_for_update().filter(booking=booking, user=user).first()
    if link is None:
        raise errors.NotFound(_("You are not invited to this booking."))
    if link.status == BookingParticipant.Status.ACCEPTED:
        return link
    if booking.status not in Booking.UPCOMING_STATUSES:
        raise errors.Conflict(_("This booking is no longer upcoming."), code="booking_not_active")
    _ensure_room_for_one_more(booking, exclude_user=user)
    link.status = BookingParticipant.Status.ACCEPTED
    link.responded_at = now or timezone.now()
    link.save(update_fields=["status", "responded_at"])
    return link


@transaction.atomic
def booking_decline(*, booking: Booking, user: User, now: datetime | None = None) -> BookingParticipant:
    """The invitee declines (or a participant leaves): the booking leaves their list and reminders stop."""
    link = BookingParticipant.objects.select_for_update().filter(booking=booking, user=user).first()
    if link is None:
        raise errors.NotFound(_("You are not invited to this booking."))
    if link.status != BookingParticipant.Status.DECLINED:
        link.status = BookingParticipant.Status.DECLINED
        link.responded_at = now or timezone.now()
        link.save(update_fields=["status", "responded_at"])
    return link


# --- account deletion -----------------------------------------------------------------


@transaction.atomic
def bookings_release_user(*, user: User, now: datetime | None = None) -> dict[str, int]:
    """Free what a deleted account holds: its future bookings and its places in others' bookings.

    Called for ``portal.signals.user_erasing``. The user's pending and confirmed
    bookings that start after ``now`` are cancelled through ``booking_cancel``
    (participants are told as usual, the owner without the client's name; no
    deadline); the user's participations in other people's bookings that start
    after ``now`` are removed. Past and running bookings stay, pointing at the
    anonymised user, for accounting, without the comment and phone the client
    gave. Returns ``{"cancelled": n, "participations_removed": m}``.
    """
    now = now or timezone.now()
    upcoming = (
        Booking.objects.filter(user=user, status__in=Booking.UPCOMING_STATUSES, starts_at__gt=now)
        .order_by("starts_at", "pk")
        .only("pk")
    )
    cancelled = 0
    for booking in upcoming:
        booking_cancel(booking=booking, actor=user, now=now, account_deleted=True)
        cancelled += 1
    removed, _by_model = BookingParticipant.objects.filter(user=user, booking__starts_at__gt=now).delete()
    Booking.objects.filter(user=user).exclude(comment="", phone="").update(comment="", phone="", updated_at=now)
    return {"cancelled": cancelled, "participations_removed": removed}


# --- QR check-in ---------------------------------------------------------------------


def checkin_token(booking: Booking) -> str:
    """The signed check-in token: bound to the booking id and its random code, salted."""
    return signing.dumps({"b": booking.pk, "c": booking.checkin_code}, salt=CHECKIN_SALT, compress=False)


def checkin_url(booking: Booking) -> str:
    """What the QR code encodes: the owners' check-in page with the token filled in."""
    path = reverse("bookings:check_in")
    return f"{settings.SITE_URL.rstrip('/')}{path}?{urlencode({'token': checkin_token(booking)})}"


def _token_from_input(value: str) -> str:
    """Accept the bare token or the whole URL a phone camera read from the QR code."""
    value = (value or "").strip()
    if "token=" in value:
        tokens = parse_qs(urlparse(value).query).get("token")
        if tokens:
            return tokens[0].strip()
    return value


def booking_from_token(token: str) -> Booking:
    """The booking a check-in token belongs to; a forged or stale token is refused."""
    invalid = errors.ValidationError(_("This check-in code is not valid."), code="invalid_token")
    try:
        payload = signing.loads(_token_from_input(token), salt=CHECKIN_SALT)
    except signing.BadSignature as exc:
        raise invalid from exc
    booking_pk = payload.get("b") if isinstance(payload, dict) else None
    if booking_pk is None:
        raise invalid
    booking = (
        Booking.objects.select_related("resource__organization__city", "user", "service")
        .filter(pk=booking_pk, checkin_code=payload.get("c") or "")
        .first()
    )
    if booking is None:
        raise invalid
    return booking


@transaction.atomic
def booking_check_in(*, booking: Booking, actor: User, now: datetime | None = None) -> tuple[Booking, bool]:
    """Mark the booking checked in; returns ``(booking, already_checked_in)``.

    Only the organization's owner or staff check in, from
    BOOKING_CHECKIN_EARLY_MINUTES before the start until the end. A second scan
    is not an error: it answers that the booking is already checked in.
    """
    now = now or timezone.now()
    booking = _lock_booking(booking)
    organization = booking.resource.organization
    if not organization_can_manage(user=actor, organization=organization):
        raise errors.PermissionDenied(_("This booking belongs to another organization."), code="foreign_booking")
    if booking.status == Booking.Status.CHECKED_IN:
        return booking, True
    if booking.status == Booking.Status.CANCELLED:
        raise errors.Conflict(_("This booking was cancelled."), code="booking_cancelled")
    if booking.status not in Booking.UPCOMING_STATUSES:
        raise errors.Conflict(_("This booking is already over."), code="booking_finished")
    zone = organization.city.tzinfo
    opens = booking.starts_at - timedelta(minutes=settings.BOOKING_CHECKIN_EARLY_MINUTES)
    if now < opens:
        raise errors.Conflict(
            _("Too early: check-in opens at %(time)s.") % {"time": datetime_format(opens, zone=zone)}, code="too_early"
        )
    if now >= booking.ends_at:
        raise errors.Conflict(
            _("Too late: this booking ended at %(time)s.") % {"time": datetime_format(booking.ends_at, zone=zone)},
            code="too_late",
        )
    booking.status = Booking.Status.CHECKED_IN
    booking.checked_in_at = now
    booking.checked_in_by = actor
    booking.save(update_fields=["status", "checked_in_at", "checked_in_by", "updated_at"])
    return booking, False


def booking_check_in_by_token(*, token: str, actor: User, now: datetime | None = None) -> tuple[Booking, bool]:
    """Check in the booking a scanned or pasted token names (see booking_check_in)."""
    return booking_check_in(booking=booking_from_token(token), actor=actor, now=now)


def checkin_message(booking: Booking, already: bool) -> str:
    zone = _zone(booking)
    if already:
        return _("Already checked in at %(time)s.") % {
            "time": datetime_format(booking.checked_in_at, zone=zone, fmt=TIME_FORMAT)
        }
    return _("Checked in: %(user)s, %(resource)s, %(start)s.") % {
        "user": booking.user.get_full_name() or booking.user.email,
        "resource": booking.resource.name,
        "start": datetime_format(booking.starts_at, zone=zone),
    }


# --- background jobs --------------------------------------------------------------------


def _claim_reminder(*, booking: Booking, user: User, offset: int, sent: bool) -> bool:
    """Insert the reminder row; False when another run already claimed it."""
    try:
        with transaction.atomic():
            BookingReminder.objects.create(
                booking=booking, user=user, offset_minutes=offset, starts_at=booking.starts_at, sent=sent
            )
    except IntegrityError:
        return False
    return True


def booking_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the booker and the participants who accepted of upcoming bookings; returns how many were sent.

    For each offset in BOOKING_REMINDER_OFFSETS_MINUTES a person gets one
    reminder per start time: the BookingReminder row (unique on booking, user,
    offset and start) is claimed in the same transaction as the notification,
    and notify's dedupe key repeats the guarantee. Offsets whose moment passed
    before the booking was made (or moved, or the invitation accepted) are skipped,
    and after a pause only the closest due reminder goes out.
    """
    now = now or timezone.now()
    offsets = sorted({int(o) for o in settings.BOOKING_REMINDER_OFFSETS_MINUTES if int(o) > 0})
    if not offsets:
        return 0
    bookings = (
        Booking.objects.filter(
            status__in=Booking.UPCOMING_STATUSES,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(minutes=offsets[-1]),
        )
        .select_related("resource__organization__city", "service", "user")
        .prefetch_related(
            Prefetch(
                "participant_links",
                queryset=BookingParticipant.objects.filter(status=BookingParticipant.Status.ACCEPTED).select_related(
                    "user"
                ),
                to_attr="accepted_links",
            ),
            Prefetch("reminders", queryset=BookingReminder.objects.order_by(), to_attr="claimed_reminders"),
        )
        .order_by("starts_at", "pk")
    )
    sent = 0
    for booking in bookings:
        # Runs every minute over a day of bookings: reminders already claimed are
        # skipped without a query; the insert in _claim_reminder stays the guard.
        claimed = {(r.user_id, r.offset_minutes) for r in booking.claimed_reminders if r.starts_at == booking.starts_at}
        recipients = [(booking.user, booking.scheduled_at)]
        for link in booking.accepted_links:
            recipients.append((link.user, max(booking.scheduled_at, link.responded_at or link.invited_at)))
        for user, since in recipients:
            if getattr(user, "is_blocked", False):
                continue
            due = [
                o
                for o in offsets
                if booking.starts_at - timedelta(minutes=o) <= now and since <= booking.starts_at - timedelta(minutes=o)
            ]
            if not due:
                continue
            closest = due[0]
            if (user.pk, closest) in claimed:
                continue
            with transaction.atomic():
                if not _claim_reminder(booking=booking, user=user, offset=closest, sent=True):
                    continue
                for skipped in due[1:]:
                    _claim_reminder(booking=booking, user=user, offset=skipped, sent=False)
                notify(
                    user=user,
                    kind="booking_reminder",
                    app_link=booking_app_link(booking),
                    context={**notice_context(booking), "offset_minutes": closest},
                    dedupe_key=f"booking:{booking.pk}:reminder:{user.pk}:{closest}:{_iso_utc(booking.starts_at)}",
                )
                sent += 1
    return sent


def booking_mark_no_shows(*, now: datetime | None = None) -> dict[str, int]:
    """Close bookings that have ended: confirmed ones nobody checked in become no-shows,
    checked-in ones become completed. Safe to run any number of times."""
    now = now or timezone.now()
    no_shows = Booking.objects.filter(status__in=Booking.UPCOMING_STATUSES, ends_at__lte=now).update(
        status=Booking.Status.NO_SHOW, updated_at=now
    )
    completed = Booking.objects.filter(status=Booking.Status.CHECKED_IN, ends_at__lte=now).update(
        status=Booking.Status.COMPLETED, updated_at=now
    )
    return {"no_show": no_shows, "completed": completed}


# --- owners: resources and opening hours ------------------------------------------------------


def _services_of(organization: Organization, services: Iterable[Service | int]) -> list[Service]:
    """``services`` (rows or ids) checked to be the organization's own."""
    ids = {s.pk if isinstance(s, Service) else s for s in services}
    found = list(Service.objects.filter(organization=organization, pk__in=ids))
    if len(found) != len(ids):
        raise errors.ValidationError(
            _("Choose services of this organization."), code="invalid_service", extra={"field": "services"}
        )
    return found


@transaction.atomic
def resource_create(
    *,
    actor: User,
    organization: Organization,
    name: str,
    kind: str,
    description: str = "",
    capacity: int | None = None,
    amenities: list[str] | None = None,
    services: list[Service | int] | None = None,
    is_active: bool = True,
) -> Resource:
    """An owner (or staff) adds a bookable resource to their organization.

    ``services``: what it offers (rows or ids of the organization's services);
    none means every service, or booking by the hour when there are none.
    """
    _ensure_manager(actor, organization)
    if kind not in Resource.Kind.values:
        raise errors.ValidationError(_("Unknown resource kind."), code="invalid")
    offered = _services_of(organization, services or [])
    resource = Resource(
        organization=organization,
        name=name.strip(),
        kind=kind,
        description=description,
        capacity=capacity,
        amenities=[a.strip() for a in (amenities or []) if a and a.strip()],
        is_active=is_active,
    )
    resource.full_clean()
    resource.save()
    resource.services.set(offered)
    return resource


@transaction.atomic
def resource_update(*, actor: User, resource: Resource, **fields: Any) -> Resource:
    """Change a resource's name, kind, description, capacity, amenities, services or active flag."""
    _ensure_manager(actor, resource.organization)
    allowed = {"name", "kind", "description", "capacity", "amenities", "services", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise errors.ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    services = fields.pop("services", None)
    offered = _services_of(resource.organization, services) if services is not None else None
    for key, value in fields.items():
        setattr(resource, key, value)
    resource.full_clean()
    resource.save()
    if offered is not None:
        resource.services.set(offered)
    return resource


@transaction.atomic
def opening_hours_replace(
    *, actor: User, organization: Organization, intervals: list[tuple[int, time, time]]
) -> list[OpeningHours]:
    """Replace the organization's weekly opening hours with ``intervals`` of (weekday, opens, closes).

    Intervals of one weekday must not overlap; closes 00:00 means midnight.
    Existing bookings are kept.
    """
    _ensure_manager(actor, organization)
    opening_hours_validate(intervals=intervals)
    OpeningHours.objects.filter(organization=organization).delete()
    return OpeningHours.objects.bulk_create(
        [OpeningHours(organization=organization, weekday=w, opens_at=o, closes_at=c) for w, o, c in intervals]
    )


def opening_hours_validate(*, intervals: list[tuple[int, time, time]]) -> None:
    """The rules of a week of opening hours (see opening_hours_replace); raises ValidationError."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens_at, closes_at in intervals:
        if weekday not in range(7):
            raise errors.ValidationError(_("Weekday must be 0 (Monday) to 6 (Sunday)."))
        if not (closes_at > opens_at or closes_at == time(0)):
            raise errors.ValidationError(_("Closing time must be after opening time."))
        by_day.setdefault(weekday, []).append((opens_at, closes_at))
    for day_intervals in by_day.values():
        day_intervals.sort()
        for (_o1, c1), (o2, _c2) in pairwise(day_intervals):
            if c1 == time(0) or o2 < c1:
                raise errors.ValidationError(_("Opening hours of one day must not overlap."))


# --- reviews ------------------------------------------------------------------------------------

REVIEW_TEXT_MAX = 2000
# The review reminder goes the day after the visit from this local hour, for visits at most this old.
REVIEW_REMINDER_HOUR = 10
REVIEW_REMINDER_MAX_DAYS = 3


def _review_context(review: Review) -> dict[str, Any]:
    organization = review.organization
    return {
        "review_id": review.pk,
        "organization": organization.name,
        "rating": review.rating,
        "text": review.text,
        "reply": review.reply,
        "author": review.author_name,
        "url": reverse("bookings:organization_reviews", args=[organization.pk]),
    }


def can_review(*, booking: Booking, user: User | AnonymousUser | None) -> bool:
    """The booker may review a visit that took place (checked in or completed), once."""
    return bool(
        user
        and user.is_authenticated
        and booking.user_id == user.pk
        and booking.status in Review.ATTENDED_STATUSES
        and not Review.objects.filter(booking_id=booking.pk).exists()
    )


def _lock_organization(organization_id: int) -> None:
    """Lock the organization's row so the average counts every review of concurrent transactions.

    Reading (locking) catalog's row is allowed; its columns change only through
    ``catalog.services.organization_rating_set``.
    """
    list(Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk", flat=True))


def _rating_refresh(organization_id: int) -> None:
    """Hand catalog the average and the number of visible reviews (the organization row is locked)."""
    figures = Review.objects.filter(organization_id=organization_id, is_hidden=False).aggregate(
        average=Avg("rating"), count=Count("pk")
    )
    average = figures["average"]
    rating = None if average is None else Decimal(str(average)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    organization_rating_set(organization=organization_id, rating=rating, reviews_count=figures["count"])


def _clean_review_text(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > REVIEW_TEXT_MAX:
        raise errors.ValidationError(
            _("At most %(n)s characters.") % {"n": REVIEW_TEXT_MAX},
            code="invalid",
            extra={"errors": {"text": [_("At most %(n)s characters.") % {"n": REVIEW_TEXT_MAX}]}},
        )
    return text


@transaction.atomic
def review_create(
    *, user: User, organization: Organization | int, booking: Booking | int, rating: int, text: str = ""
) -> Review:
    """The client reviews a visit: ``rating`` 1–5 and an optional text.

    Only the booker of a booking at ``organization`` that was checked in or
    completed may review it (else PermissionDenied ``not_attended``, also for
    somebody else's booking or an unknown one), once per booking (Conflict
    ``already_reviewed``, backed by the unique booking). The organization's
    rating is recomputed and its owner notified.
    """
    actor_ensure_active(user)
    organization_id = organization.pk if isinstance(organization, Organization) else int(organization)
    booking_id = booking.pk if isinstance(booking, Booking) else booking
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        message = _("Choose from 1 to 5 stars.")
        raise errors.ValidationError(message, code="invalid", extra={"errors": {"rating": [message]}})
    text = _clean_review_text(text)
    _lock_organization(organization_id)
    attended = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("resource__organization__owner")
        .filter(
            pk=booking_id,
            user=user,
            resource__organization_id=organization_id,
            status__in=Review.ATTENDED_STATUSES,
        )
        .first()
    )
    if attended is None:
        raise errors.PermissionDenied(
            _("Only a client who visited the organization can review it."), code="not_attended"
        )
    if Review.objects.filter(booking=attended).exists():
        raise errors.Conflict(_("You have already reviewed this visit."), code="already_reviewed")
    try:
        with transaction.atomic():
            review = Review.objects.create(
                booking=attended, organization_id=organization_id, author=user, rating=rating, text=text
            )
    except IntegrityError as exc:
        raise errors.Conflict(_("You have already reviewed this visit."), code="already_reviewed") from exc
    review.organization = attended.resource.organization
    _rating_refresh(organization_id)
    notify(
        user=review.organization.owner,
        kind="review_created",
        context=_review_context(review),
        dedupe_key=f"review:{review.pk}:created",
    )
    return review


def _lock_review(review: Review | int) -> Review:
    pk = review.pk if isinstance(review, Review) else review
    found = (
        Review.objects.select_for_update(of=("self",))
        .select_related("organization__owner", "author")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise errors.NotFound(_("Review not found."))
    return found


@transaction.atomic
def review_reply(*, review: Review | int, by: User, text: str) -> Review:
    """The organization's owner answers a visible review, once (Conflict ``already_replied``)."""
    actor_ensure_active(by)
    review = _lock_review(review)
    if review.is_hidden:
        raise errors.NotFound(_("Review not found."))
    if not (by and by.is_authenticated and review.organization.owner_id == by.pk):
        raise errors.PermissionDenied(_("Only the organization's owner can answer reviews."), code="not_owner")
    if review.reply:
        raise errors.Conflict(_("This review already has an answer."), code="already_replied")
    text = _clean_review_text(text)
    if not text:
        message = _("Write the answer.")
        raise errors.ValidationError(message, code="invalid", extra={"errors": {"text": [message]}})
    review.reply = text
    review.replied_at = timezone.now()
    review.replied_by = by
    review.save(update_fields=["reply", "replied_at", "replied_by"])
    notify(
        user=review.author,
        kind="review_replied",
        context=_review_context(review),
        dedupe_key=f"review:{review.pk}:replied",
    )
    return review


def _ensure_staff(by: User, refusal: StrOrPromise) -> None:
    if not (by and by.is_authenticated and by.is_staff):
        raise errors.PermissionDenied(refusal)


def _review_locked(review: Review | int) -> tuple[Review, int]:
    """The review locked for a change of its visibility, with its organization's id (locked first, as
    the rating is recomputed under that lock)."""
    pk = review.pk if isinstance(review, Review) else review
    organization_id = Review.objects.filter(pk=pk).values_list("organization_id", flat=True).first()
    if organization_id is None:
        raise errors.NotFound(_("Review not found."))
    _lock_organization(organization_id)
    return _lock_review(pk), organization_id


@transaction.atomic
def review_hide(*, review: Review | int, by: User, reason: str) -> Review:
    """Staff hide a review from the organization's page and its rating, giving the reason."""
    _ensure_staff(by, _("Only staff can hide reviews."))
    reason = (reason or "").strip()
    if not reason:
        message = _("Give the reason.")
        raise errors.ValidationError(message, code="invalid", extra={"errors": {"reason": [message]}})
    review, organization_id = _review_locked(review)
    review.is_hidden = True
    review.hidden_reason = reason
    review.hidden_at = timezone.now()
    review.hidden_by = by
    review.save(update_fields=["is_hidden", "hidden_reason", "hidden_at", "hidden_by"])
    _rating_refresh(organization_id)
    return review


@transaction.atomic
def review_unhide(*, review: Review | int, by: User) -> Review:
    """Staff show a hidden review again (the reason is kept for the record)."""
    _ensure_staff(by, _("Only staff can show reviews again."))
    review, organization_id = _review_locked(review)
    if review.is_hidden:
        review.is_hidden = False
        review.save(update_fields=["is_hidden"])
        _rating_refresh(organization_id)
    return review


def review_reminders_send(*, now: datetime | None = None) -> int:
    """Ask clients for a review the day after their visit, once per booking; returns how many were asked.

    Due when the visit (checked in or completed, not yet reviewed) ended on an
    earlier day in the organization's city and it is REVIEW_REMINDER_HOUR or
    later there; visits older than REVIEW_REMINDER_MAX_DAYS are left alone.
    ``review_reminded_at`` is claimed with a conditional update and notify's
    dedupe key repeats the guarantee, so two beats or a retry ask once.
    """
    now = now or timezone.now()
    hour = int(getattr(settings, "REVIEW_REMINDER_HOUR", REVIEW_REMINDER_HOUR))
    max_days = int(getattr(settings, "REVIEW_REMINDER_MAX_DAYS", REVIEW_REMINDER_MAX_DAYS))
    candidates = (
        Booking.objects.filter(
            status__in=Review.ATTENDED_STATUSES,
            review_reminded_at__isnull=True,
            ends_at__lte=now,
            ends_at__gte=now - timedelta(days=max_days),
            review__isnull=True,
            user__is_blocked=False,
        )
        .select_related("resource__organization__city", "service", "user")
        .order_by("ends_at", "pk")
    )
    sent = 0
    for booking in candidates.iterator(chunk_size=200):
        zone = _zone(booking)
        local_now = timezone.localtime(now, zone)
        if timezone.localtime(booking.ends_at, zone).date() >= local_now.date() or local_now.hour < hour:
            continue
        with transaction.atomic():
            claimed = Booking.objects.filter(pk=booking.pk, review_reminded_at__isnull=True).update(
                review_reminded_at=now
            )
            if not claimed:
                continue
            notify(
                user=booking.user,
                kind="review_reminder",
                context={**notice_context(booking), "review_url": reverse("bookings:detail", args=[booking.pk])},
                dedupe_key=f"booking:{booking.pk}:review_reminder",
            )
        sent += 1
    return sent
