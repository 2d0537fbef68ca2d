"""Server-rendered booking pages: choose a service, a specialist or place, a day and a free slot;
confirm; my bookings; a booking with its QR code; the owners' pages."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bookings import selectors, services
from bookings.forms import (
    CheckInForm,
    ConfirmForm,
    InviteForm,
    ResourceForm,
    ReviewForm,
    WeekHoursForm,
    copy_to_weekdays,
)
from bookings.hours import local_to_utc
from bookings.models import Booking, BookingParticipant, OpeningHours, Resource, Review
from bookings.zones import city_zone_label
from catalog.models import Organization, Service
from catalog.selectors import organization_can_manage
from portal import errors
from portal.throttling import throttle

#: How many days ahead the booking page offers as one-tap choices.
DAYS_AHEAD = 14


def _visible_or_managed_organization(request, pk: int) -> Organization:
    queryset = Organization.objects.select_related("city")
    organization = queryset.filter(Q(pk=pk) & Q(pk__in=Organization.objects.visible())).first()
    if organization is None and request.user.is_authenticated:
        organization = selectors.organization_list_managed(user=request.user).filter(pk=pk).first()
    if organization is None:
        raise Http404
    return organization


def _back_to(request, target: str | None, default: str) -> str:
    """``target`` (a posted ``next`` or the referer) when it points into this site, else ``default``."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _booking_for(request, pk: int) -> Booking:
    booking = selectors.booking_get_for_user(user=request.user, pk=pk)
    if booking is None:
        raise Http404
    return booking


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _date(value, default: date) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return default


def _time(value) -> time | None:
    try:
        return time.fromisoformat(value or "")
    except ValueError:
        return None


def _movable_booking(request, organization: Organization, raw) -> Booking | None:
    """The user's own booking at ``organization`` named by ``?move=``, if it can still be moved."""
    if not raw or not request.user.is_authenticated:
        return None
    booking = selectors.booking_get_for_user(user=request.user, pk=_int(raw))
    if (
        booking is None
        or booking.resource.organization_id != organization.pk
        or booking.status not in (Booking.Status.PENDING, Booking.Status.CONFIRMED)
        or not (
            booking.user_id == request.user.pk or organization_can_manage(user=request.user, organization=organization)
        )
    ):
        return None
    return booking


def _duration(service: Service | None, move_booking: Booking | None) -> int:
    if service is not None:
        return service.duration_minutes
    if move_booking is not None:
        return int((move_booking.ends_at - move_booking.starts_at).total_seconds() // 60)
    return selectors.DEFAULT_DURATION_MINUTES


def _flow_query(**params) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "", False)})


@dataclass(frozen=True)
class SlotChoice:
    starts_local: datetime
    resource: Resource
    url: str


# --- the booking flow ----------------------------------------------------------------------


def organization(request, pk: int):
    """Book at an organization, one step at a time, without JavaScript.

    Service first (as in YCLIENTS): a service → a specialist or place that
    offers it, or "any" → a day → a free slot → the confirmation page. A place
    can be chosen first too (seats and rooms, booked by the hour or for one of
    its services). ``?service=``, ``?resource=`` (an id or ``any``),
    ``?date=`` and ``?time=`` (local, HH:MM) jump to a step; ``?move=<id>``
    picks a new time for an existing booking.
    """
    org = _visible_or_managed_organization(request, pk)
    zone = org.city.tzinfo
    today = timezone.localtime(timezone.now(), zone).date()
    move_booking = _movable_booking(request, org, request.GET.get("move"))
    resources = list(org.resources.filter(is_active=True).prefetch_related("services").order_by("name", "pk"))
    all_services = list(org.services.filter(is_active=True).order_by("name", "pk"))
    has_hours = OpeningHours.objects.filter(organization=org).exists()
    offered = [s for s in all_services if any(r.offers(s) for r in resources)]

    service = next((s for s in all_services if s.pk == _int(request.GET.get("service"))), None)
    if move_booking is not None:
        service = move_booking.service
    raw_resource = request.GET.get("resource") or (str(move_booking.resource_id) if move_booking else "")
    any_resource = raw_resource == "any" and service is not None
    resource = None if any_resource else next((r for r in resources if r.pk == _int(raw_resource)), None)
    day = max(_date(request.GET.get("date"), today), today)

    problem = ""
    offering = [r for r in resources if r.offers(service)] if service else []
    if service is not None and resource is not None and not resource.offers(service):
        problem = _("%(resource)s does not offer «%(service)s». Choose who does:") % {
            "resource": resource.name,
            "service": service.name,
        }
        resource = None
    if service is not None and not offering:
        problem = _("Nobody offers «%(service)s» yet. Choose another service.") % {"service": service.name}
        service = None
    if service is not None and resource is None and not any_resource and len(offering) == 1:
        resource = offering[0]

    if not resources or not has_hours:
        step = "closed"
    elif service is None and resource is None:
        step = "service"
    elif service is not None and resource is None and not any_resource:
        step = "resource"
    else:
        step = "slots"

    resource_services = []
    if resource is not None and service is None:
        resource_services = [s for s in all_services if resource.offers(s)]
        if {s.pk for s in resource.services.all()}:
            # A specialist or place that lists its services is booked for one of them.
            step = "resource_service"

    slots: list[SlotChoice] = []
    if step == "slots":
        duration = _duration(service, move_booking)
        found: list[selectors.ResourceSlot] = []
        if any_resource and service is not None:
            found = selectors.service_free_slots(
                service=service, day=day, resources=offering, exclude_booking=move_booking
            )
        elif resource is not None:  # the step is "slots": a resource, or "any" with a service
            found = [
                selectors.ResourceSlot(slot.starts_at, slot.ends_at, resource)
                for slot in selectors.resource_free_slots(
                    resource=resource, day=day, duration_minutes=duration, exclude_booking=move_booking
                )
            ]
        for slot in found:
            local = timezone.localtime(slot.starts_at, zone)
            query = _flow_query(
                resource=slot.resource.pk,
                service=service.pk if service else "",
                date=local.date().isoformat(),
                time=local.strftime("%H:%M"),
                any="1" if any_resource else "",
                move=move_booking.pk if move_booking else "",
            )
            slots.append(SlotChoice(local, slot.resource, f"{reverse('bookings:confirm')}?{query}"))
        wanted = _time(request.GET.get("time"))
        if wanted is not None:
            chosen = next((s for s in slots if s.starts_local.time().replace(second=0) == wanted), None)
            if chosen is not None:
                return redirect(chosen.url)
            problem = _("%(time)s is not free on this day. Choose another time:") % {"time": wanted.strftime("%H:%M")}

    base = {
        "service": service.pk if service else "",
        "resource": "any" if any_resource else (resource.pk if resource else ""),
        "move": move_booking.pk if move_booking else "",
    }
    days = [
        (d, is_open, f"?{_flow_query(**base, date=d.isoformat())}")
        for d, is_open in selectors.open_days(organization=org, first_day=today, days=DAYS_AHEAD)
    ]
    places = [r for r in resources if r.kind in (Resource.Kind.SEAT, Resource.Kind.ROOM)]
    hours = OpeningHours.objects.filter(organization=org).order_by("weekday", "opens_at")
    return render(
        request,
        "bookings/organization.html",
        {
            "organization": org,
            "step": step,
            "problem": problem,
            "services": offered,
            "places": places,
            "service": service,
            "resource": resource,
            "any_resource": any_resource,
            "offering": offering,
            "resource_services": resource_services,
            "resource_by_hour": resource is not None and not {s.pk for s in resource.services.all()},
            "day": day,
            "days": days,
            "slots": slots,
            "hours": hours,
            "move_booking": move_booking,
            "zone_label": city_zone_label(org.city, local_to_utc(day, time(12), zone)),
            "base_query": _flow_query(**base),
            "default_duration": selectors.DEFAULT_DURATION_MINUTES,
            "is_manager": organization_can_manage(user=request.user, organization=org),
            "setup": selectors.organization_booking_links(organization=org)
            if organization_can_manage(user=request.user, organization=org)
            else None,
        },
    )


@dataclass(frozen=True)
class Choice:
    organization: Organization
    resource: Resource
    service: Service | None
    starts_at: datetime
    ends_at: datetime
    any_resource: bool
    move_booking: Booking | None


def _choice_from(request, params) -> Choice:
    """The slot described by ``params`` (resource, service, local date and time, any, move); 404 when nonsense."""
    resource = (
        Resource.objects.select_related("organization__city")
        .prefetch_related("services")
        .filter(pk=_int(params.get("resource")), is_active=True)
        .first()
    )
    day, at = _date(params.get("date"), date.min), _time(params.get("time"))
    if resource is None or day == date.min or at is None:
        raise Http404
    org = _visible_or_managed_organization(request, resource.organization_id)
    resource.organization = org
    service = None
    if params.get("service"):
        service = Service.objects.filter(pk=_int(params.get("service")), organization=org, is_active=True).first()
        if service is None:
            raise Http404
    move_booking = _movable_booking(request, org, params.get("move"))
    if move_booking is not None:
        service = move_booking.service
    starts_at = local_to_utc(day, at, org.city.tzinfo)
    ends_at = starts_at + timedelta(minutes=_duration(service, move_booking))
    return Choice(org, resource, service, starts_at, ends_at, params.get("any") == "1", move_booking)


def _slot_is_free(choice: Choice) -> bool:
    day = timezone.localtime(choice.starts_at, choice.organization.city.tzinfo).date()
    slots = selectors.resource_free_slots(
        resource=choice.resource,
        day=day,
        duration_minutes=int((choice.ends_at - choice.starts_at).total_seconds() // 60),
        exclude_booking=choice.move_booking,
    )
    return any(slot.starts_at == choice.starts_at for slot in slots)


def _book(request, choice: Choice, form: ConfirmForm) -> Booking:
    """Book (or move) the chosen slot; with "any", another free specialist or place takes over a taken one."""
    if choice.move_booking is not None:
        return services.booking_move(
            booking=choice.move_booking, actor=request.user, starts_at=choice.starts_at, resource=choice.resource
        )
    candidates = [choice.resource]
    if choice.any_resource and choice.service is not None:
        candidates += [r for r in selectors.resources_offering(service=choice.service) if r.pk != choice.resource.pk]
    for index, resource in enumerate(candidates):
        try:
            return services.booking_create(
                user=request.user,
                resource=resource,
                service=choice.service,
                starts_at=choice.starts_at,
                ends_at=None if choice.service else choice.ends_at,
                comment=form.cleaned_data["comment"],
                phone=form.cleaned_data["phone"],
            )
        except errors.SlotTaken:
            if index == len(candidates) - 1:
                raise
    raise AssertionError("unreachable")


@require_http_methods(["GET", "POST"])
def confirm(request):
    """The confirmation page: what, where, when (city time), price and cancellation deadline of THIS slot.

    Anybody can look at it; booking needs an account, and the login and
    signup links come back here (``next=``) with the slot still chosen.
    """
    params = request.POST if request.method == "POST" else request.GET
    choice = _choice_from(request, params)
    query = _flow_query(
        resource=choice.resource.pk,
        service=choice.service.pk if choice.service else "",
        date=params.get("date"),
        time=params.get("time"),
        any=params.get("any"),
        move=choice.move_booking.pk if choice.move_booking else "",
    )
    here = f"{reverse('bookings:confirm')}?{query}"
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
    initial = {"phone": request.user.phone} if request.user.is_authenticated else {}
    form = ConfirmForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                booking = _book(request, choice, form)
            except errors.DomainError as exc:
                field = (exc.extra or {}).get("field")
                form.add_error(field if field in form.fields else None, exc.message)
                status = 409 if isinstance(exc, errors.Conflict) else 400
            else:
                if choice.move_booking is not None:
                    messages.success(request, _("The booking has been moved."))
                else:
                    # The tag makes the VK Mini App ask for permission to send reminders (static/js/miniapp.js).
                    messages.success(
                        request,
                        _("You are booked! Show the QR code when you arrive."),
                        extra_tags="miniapp-allow-messages",
                    )
                return redirect("bookings:detail", pk=booking.pk)
    zone = choice.organization.city.tzinfo
    deadline = services.cancel_deadline_for(choice.starts_at)
    back_query = _flow_query(
        service=choice.service.pk if choice.service else "",
        resource="any" if choice.any_resource else choice.resource.pk,
        date=params.get("date"),
        move=choice.move_booking.pk if choice.move_booking else "",
    )
    return render(
        request,
        "bookings/confirm.html",
        {
            "choice": choice,
            "organization": choice.organization,
            "zone": choice.organization.city.timezone,
            "zone_label": city_zone_label(choice.organization.city, choice.starts_at),
            "deadline": deadline,
            "deadline_passed": deadline <= timezone.now(),
            "deadline_hours": settings.BOOKING_CANCEL_DEADLINE_HOURS,
            "is_free": _slot_is_free(choice),
            "form": form,
            "query": query,
            "next_query": urlencode({"next": here}),
            "back_url": f"{reverse('bookings:organization', args=[choice.organization.pk])}?{back_query}",
            "local_start": timezone.localtime(choice.starts_at, zone),
        },
        status=status,
    )


# --- my bookings -------------------------------------------------------------------------------


@login_required
def mine(request):
    when = request.GET.get("when") if request.GET.get("when") in ("upcoming", "past") else "upcoming"
    queryset = selectors.booking_list_for_user(user=request.user, when=when)
    page = Paginator(queryset, 20).get_page(request.GET.get("page"))
    owns = selectors.organization_list_managed(user=request.user).exists()
    invitations = selectors.booking_invitations_for_user(user=request.user) if when == "upcoming" else []
    return render(
        request,
        "bookings/mine.html",
        {"page": page, "when": when, "owns_organizations": owns, "invitations": invitations},
    )


@login_required
def detail(request, pk: int, invite_form: InviteForm | None = None, review_form: ReviewForm | None = None):
    booking = _booking_for(request, pk)
    user = request.user
    organization = booking.resource.organization
    is_booker = booking.user_id == user.pk
    is_manager = organization_can_manage(user=user, organization=organization)
    link = None if is_booker else booking.participant_links.filter(user=user).first()
    takes_part = link is not None and link.status == BookingParticipant.Status.ACCEPTED
    upcoming = booking.status in (Booking.Status.PENDING, Booking.Status.CONFIRMED)
    context = {
        "booking": booking,
        "zone": organization.city.timezone,
        "zone_label": city_zone_label(organization.city, booking.starts_at),
        "is_booker": is_booker,
        "is_manager": is_manager,
        "participant_link": link,
        "sees_participants": is_booker or is_manager or takes_part,
        "participants": selectors.booking_participants(booking=booking),
        "status_label": booking.client_status_label() if is_booker or link else booking.owner_status_label(),
        "can_cancel": services.can_cancel(booking=booking, user=user),
        "can_move": (is_booker or is_manager) and upcoming,
        "cancel_deadline": services.cancel_deadline(booking),
        "invite_form": invite_form or InviteForm(),
        "show_qr": booking.is_active and booking.status != Booking.Status.CHECKED_IN and (is_booker or takes_part),
        "calendar": (is_booker or takes_part) and booking.status != Booking.Status.CANCELLED,
        "sees_contact": is_booker or is_manager,
        "review": Review.objects.filter(booking=booking, is_hidden=False).first(),
        "can_review": services.can_review(booking=booking, user=user),
        "review_form": review_form or ReviewForm(),
    }
    return render(request, "bookings/detail.html", context, status=400 if (invite_form or review_form) else 200)


@login_required
@require_POST
def review_create(request, pk: int):
    """The client reviews the visit from the booking page."""
    booking = _booking_for(request, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_create(
                user=request.user,
                organization=booking.resource.organization_id,
                booking=booking,
                rating=form.cleaned_data["rating"],
                text=form.cleaned_data["text"],
            )
        except errors.DomainError as exc:
            field_errors = exc.extra.get("errors") or {}
            if not field_errors:
                messages.error(request, exc.message)
                return redirect("bookings:detail", pk=pk)
            for field, field_messages in field_errors.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Thank you! Your review is published."))
            return redirect("bookings:detail", pk=pk)
    return detail(request, pk, review_form=form)


def organization_reviews(request, pk: int):
    """Every visible review of an organization; its owner answers here."""
    org = _visible_or_managed_organization(request, pk)
    page = Paginator(selectors.review_list_for_organization(organization=org), 20).get_page(request.GET.get("page"))
    is_owner = request.user.is_authenticated and org.owner_id == request.user.pk
    return render(
        request,
        "bookings/organization_reviews.html",
        {"organization": org, "page": page, "is_owner": is_owner, "zone": org.city.timezone},
    )


@login_required
@require_POST
def review_reply(request, pk: int):
    review = get_object_or_404(Review.objects.filter(is_hidden=False), pk=pk)
    try:
        services.review_reply(review=review, by=request.user, text=request.POST.get("text", ""))
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your answer is published."))
    return redirect("bookings:organization_reviews", pk=review.organization_id)


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk: int):
    """GET asks "cancel this booking?", POST cancels (works without JavaScript)."""
    booking = _booking_for(request, pk)
    default = reverse("bookings:detail", args=[pk])
    back = _back_to(request, request.POST.get("next") or request.GET.get("next"), default)
    if request.method == "GET":
        organization = booking.resource.organization
        return render(
            request,
            "bookings/cancel.html",
            {
                "booking": booking,
                "zone": organization.city.timezone,
                "zone_label": city_zone_label(organization.city, booking.starts_at),
                "can_cancel": services.can_cancel(booking=booking, user=request.user),
                "cancel_deadline": services.cancel_deadline(booking),
                "is_manager": organization_can_manage(user=request.user, organization=organization),
                "back": back,
            },
        )
    try:
        services.booking_cancel(booking=booking, actor=request.user)
        messages.success(request, _("The booking has been cancelled."))
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@login_required
@require_POST
@throttle("invite")
def invite(request, pk: int):
    booking = _booking_for(request, pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.booking_invite(booking=booking, actor=request.user, email=form.cleaned_data["email"])
        except errors.DomainError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(request, services.INVITATION_SENT_MESSAGE)
            return redirect("bookings:detail", pk=pk)
    return detail(request, pk, invite_form=form)


@login_required
@require_POST
def accept(request, pk: int):
    booking = _booking_for(request, pk)
    try:
        services.booking_accept(booking=booking, user=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You take part in this booking. We will remind you before it starts."))
    return redirect("bookings:detail", pk=pk)


@login_required
@require_POST
def decline(request, pk: int):
    booking = _booking_for(request, pk)
    try:
        services.booking_decline(booking=booking, user=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
        return redirect("bookings:detail", pk=pk)
    messages.success(request, _("You declined the invitation."))
    return redirect("bookings:mine")


# --- owners ---------------------------------------------------------------------------------


@login_required
def owned(request):
    organizations = selectors.organization_list_managed(user=request.user)
    page = Paginator(organizations, 20).get_page(request.GET.get("page"))
    return render(request, "bookings/owned.html", {"page": page})


def _owned_organization(request, pk: int) -> Organization:
    return get_object_or_404(selectors.organization_list_managed(user=request.user), pk=pk)


@login_required
def owner_bookings(request, pk: int):
    """The owner's day: bookings per place or specialist, with the client's name, phone and comment."""
    org = _owned_organization(request, pk)
    zone = org.city.tzinfo
    today = timezone.localtime(timezone.now(), zone).date()
    day = _date(request.GET.get("date"), today)
    bookings = list(selectors.booking_list_for_owner(user=request.user, organization=org, day=day))
    columns = selectors.owner_day_columns(organization=org, bookings=bookings)
    return render(
        request,
        "bookings/owner_bookings.html",
        {
            "organization": org,
            "org": org,
            "columns": columns,
            "day": day,
            "today": today,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "zone_label": city_zone_label(org.city, local_to_utc(day, time(12), zone)),
            "setup": selectors.organization_booking_links(organization=org),
            "count": sum(1 for b in bookings if b.status != Booking.Status.CANCELLED),
        },
    )


@login_required
@require_POST
def owner_check_in(request, pk: int):
    """The owner marks a booking checked in from the day view (the client has no phone with them)."""
    booking = get_object_or_404(selectors.booking_list_for_owner(user=request.user), pk=pk)
    try:
        booking, already = services.booking_check_in(booking=booking, actor=request.user)
        messages.success(request, services.checkin_message(booking, already))
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    default = services.owner_day_url(booking)
    return redirect(_back_to(request, request.POST.get("next"), default))


@login_required
def check_in(request):
    """Scan or paste a check-in code (the QR code opens this page with the token filled in)."""
    result = None
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            try:
                booking, already = services.booking_check_in_by_token(
                    token=form.cleaned_data["token"], actor=request.user
                )
            except errors.DomainError as exc:
                form.add_error("token", exc.message)
            else:
                result = {"booking": booking, "already": already, "message": services.checkin_message(booking, already)}
                form = CheckInForm()
    else:
        form = CheckInForm(initial={"token": request.GET.get("token", "")})
    return render(request, "bookings/check_in.html", {"form": form, "result": result}, status=200)


def _form_error(form, exc: errors.DomainError) -> None:
    field = (exc.extra or {}).get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@login_required
def owner_resources(request, pk: int):
    """Places and specialists: the step after services in the owner's set-up."""
    org = _owned_organization(request, pk)
    form = ResourceForm(request.POST or None, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.resource_create(actor=request.user, organization=org, **form.service_fields())
        except errors.DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Saved. Clients can book it once the opening hours are set."))
            return redirect("bookings:owner_resources", pk=org.pk)
    resources = org.resources.prefetch_related("services").order_by("name")
    return render(
        request,
        "bookings/owner_resources.html",
        {
            "organization": org,
            "org": org,
            "resources": resources,
            "form": form,
            "setup": selectors.organization_booking_links(organization=org),
        },
        status=400 if form.errors else 200,
    )


@login_required
def resource_edit(request, pk: int):
    resource = get_object_or_404(
        Resource.objects.select_related("organization__city").filter(
            organization__in=selectors.organization_list_managed(user=request.user)
        ),
        pk=pk,
    )
    org = resource.organization
    form = ResourceForm(request.POST or None, instance=resource, organization=org)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        resource.refresh_from_db()
        try:
            services.resource_update(actor=request.user, resource=resource, **fields)
        except errors.DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("bookings:owner_resources", pk=resource.organization_id)
    return render(
        request,
        "bookings/resource_form.html",
        {"resource": resource, "form": form, "organization": org, "org": org},
        status=400 if form.errors else 200,
    )


@login_required
def opening_hours(request, pk: int):
    """The week editor: each day once, open or closed, with an optional break; "copy Monday to weekdays"."""
    org = _owned_organization(request, pk)
    rows = list(OpeningHours.objects.filter(organization=org).order_by("weekday", "opens_at"))
    status = 200
    if request.method == "POST" and request.POST.get("copy") == "weekdays":
        week = WeekHoursForm(copy_to_weekdays(request.POST), rows=rows)
        week.is_valid()
        messages.info(request, _("Monday's hours are copied to Tuesday–Friday. Check them and save."))
    elif request.method == "POST":
        week = WeekHoursForm(request.POST, rows=rows)
        if week.is_valid():
            try:
                services.opening_hours_replace(actor=request.user, organization=org, intervals=week.intervals())
            except errors.DomainError as exc:
                messages.error(request, exc.message)
                status = 400
            else:
                messages.success(request, _("Opening hours saved."))
                return redirect("bookings:opening_hours", pk=org.pk)
        else:
            status = 400
    else:
        week = WeekHoursForm(rows=rows)
    return render(
        request,
        "bookings/opening_hours.html",
        {
            "organization": org,
            "org": org,
            "week": week,
            "zone_label": city_zone_label(org.city),
            "setup": selectors.organization_booking_links(organization=org),
        },
        status=status,
    )
