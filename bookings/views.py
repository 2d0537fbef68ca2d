"""Server-rendered booking pages: pick a slot, my bookings, a booking with its QR code, owners' pages."""

from datetime import UTC, date
from urllib.parse import urlencode

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
from django.views.decorators.http import require_POST

from bookings import selectors, services
from bookings.forms import (
    BookSlotForm,
    CheckInForm,
    InviteForm,
    OpeningHoursFormSet,
    ResourceForm,
    ReviewForm,
    SlotSearchForm,
)
from bookings.models import Booking, OpeningHours, Resource, Review
from catalog.models import Organization
from catalog.selectors import organization_can_manage
from portal import errors
from portal.throttling import throttle


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


def organization(request, pk: int):
    """Pick a resource, a service and a date, then a free slot (also used to move a booking)."""
    org = _visible_or_managed_organization(request, pk)
    zone = org.city.tzinfo
    move_booking = None
    if request.GET.get("move") and request.user.is_authenticated:
        move_booking = selectors.booking_get_for_user(user=request.user, pk=_int(request.GET["move"]))
        if move_booking and move_booking.resource.organization_id != org.pk:
            move_booking = None
    data = request.GET.copy()
    today = timezone.localtime(timezone.now(), zone).date()
    data.setdefault("date", today.isoformat())
    resources = list(org.resources.filter(is_active=True).order_by("name"))
    if resources and not data.get("resource"):
        data["resource"] = str(move_booking.resource_id if move_booking else resources[0].pk)
    if move_booking and move_booking.service_id and "service" not in request.GET:
        data["service"] = str(move_booking.service_id)
    form = SlotSearchForm(data, organization=org)
    slots = []
    chosen = {}
    if resources and form.is_valid():
        resource = form.cleaned_data["resource"]
        length = selectors.slot_length(resource=resource, service=form.cleaned_data["service"], moving=move_booking)
        slots = selectors.resource_free_slots(
            resource=resource,
            day=form.cleaned_data["date"],
            duration_minutes=length.duration_minutes,
            step_minutes=length.step_minutes,
            exclude_booking=move_booking,
        )
        chosen = {"resource": resource, "service": length.service, "date": form.cleaned_data["date"]}
    hours = OpeningHours.objects.filter(organization=org).order_by("weekday", "opens_at")
    return render(
        request,
        "bookings/organization.html",
        {
            "organization": org,
            "form": form,
            "resources": resources,
            "slots": [(slot, timezone.localtime(slot.starts_at, zone)) for slot in slots],
            "chosen": chosen,
            "hours": hours,
            "move_booking": move_booking,
            "timezone_name": org.city.timezone,
        },
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
@require_POST
def book(request):
    """Book (or move to) the slot chosen on the organization page."""
    form = BookSlotForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a free slot."))
        return redirect(_back_to(request, request.META.get("HTTP_REFERER"), reverse("bookings:mine")))
    resource: Resource = form.cleaned_data["resource"]
    starts_at = form.cleaned_data["starts_at"]
    if timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=UTC)
    service = None
    if form.cleaned_data.get("service"):
        try:
            service = selectors.service_for_resource(resource=resource, service=form.cleaned_data["service"])
        except errors.DomainError as exc:
            messages.error(request, exc.message)
            return redirect(_back_to(request, request.META.get("HTTP_REFERER"), reverse("bookings:mine")))
    back = (
        reverse("bookings:organization", args=[resource.organization_id])
        + "?"
        + urlencode(
            {
                "resource": resource.pk,
                "service": service.pk if service else "",
                "date": timezone.localtime(starts_at, resource.organization.city.tzinfo).date().isoformat(),
            }
        )
    )
    try:
        if form.cleaned_data.get("move"):
            booking = _booking_for(request, form.cleaned_data["move"])
            booking = services.booking_move(booking=booking, actor=request.user, starts_at=starts_at)
            messages.success(request, _("The booking has been moved."))
        else:
            booking = services.booking_create(
                user=request.user, resource=resource, service=service, starts_at=starts_at
            )
            # The tag makes the VK Mini App ask for permission to send reminders (static/js/miniapp.js).
            messages.success(
                request, _("Booked! Show the QR code when you arrive."), extra_tags="miniapp-allow-messages"
            )
    except errors.DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return redirect("bookings:detail", pk=booking.pk)


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
    is_booker = booking.user_id == user.pk
    link = None if is_booker else booking.participant_links.filter(user=user).first()
    context = {
        "booking": booking,
        "zone": booking.resource.organization.city.timezone,
        "is_booker": is_booker,
        "is_manager": organization_can_manage(user=user, organization=booking.resource.organization),
        "participant_link": link,
        "participants": selectors.booking_participants(booking=booking) if not link else [],
        "can_cancel": services.can_cancel(booking=booking, user=user),
        "can_move": is_booker and booking.status in Booking.UPCOMING_STATUSES,
        "cancel_deadline": services.cancel_deadline(booking),
        "invite_form": invite_form or InviteForm(),
        "show_qr": booking.is_active and booking.status != Booking.Status.CHECKED_IN,
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
@require_POST
def cancel(request, pk: int):
    booking = _booking_for(request, pk)
    try:
        services.booking_cancel(booking=booking, actor=request.user)
        messages.success(request, _("The booking has been cancelled."))
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_back_to(request, request.POST.get("next"), reverse("bookings:detail", args=[pk])))


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
    org = _owned_organization(request, pk)
    zone = org.city.tzinfo
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localtime(timezone.now(), zone).date()
    queryset = selectors.booking_list_for_owner(user=request.user, organization=org, day=day)
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    return render(request, "bookings/owner_bookings.html", {"organization": org, "page": page, "day": day})


@login_required
@require_POST
def owner_check_in(request, pk: int):
    """The owner marks a booking checked in from the list (the client has no phone with them)."""
    booking = get_object_or_404(selectors.booking_list_for_owner(user=request.user), pk=pk)
    try:
        booking, already = services.booking_check_in(booking=booking, actor=request.user)
        messages.success(request, services.checkin_message(booking, already))
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    default = reverse("bookings:owner_bookings", args=[booking.resource.organization_id])
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


@login_required
def owner_resources(request, pk: int):
    org = _owned_organization(request, pk)
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "amenities_text"}
        try:
            services.resource_create(actor=request.user, organization=org, amenities=form.amenities(), **data)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Resource added."))
            return redirect("bookings:owner_resources", pk=org.pk)
    resources = org.resources.order_by("name")
    return render(request, "bookings/owner_resources.html", {"organization": org, "resources": resources, "form": form})


@login_required
def resource_edit(request, pk: int):
    resource = get_object_or_404(
        Resource.objects.select_related("organization").filter(
            organization__in=selectors.organization_list_managed(user=request.user)
        ),
        pk=pk,
    )
    form = ResourceForm(request.POST or None, instance=resource)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "amenities_text"}
        resource.refresh_from_db()
        try:
            services.resource_update(actor=request.user, resource=resource, amenities=form.amenities(), **data)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Resource saved."))
            return redirect("bookings:owner_resources", pk=resource.organization_id)
    return render(request, "bookings/resource_form.html", {"resource": resource, "form": form})


@login_required
def opening_hours(request, pk: int):
    org = _owned_organization(request, pk)
    queryset = OpeningHours.objects.filter(organization=org).order_by("weekday", "opens_at")
    formset = OpeningHoursFormSet(request.POST or None, queryset=queryset)
    if request.method == "POST" and formset.is_valid():
        intervals = [
            (f.cleaned_data["weekday"], f.cleaned_data["opens_at"], f.cleaned_data["closes_at"])
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            services.opening_hours_replace(actor=request.user, organization=org, intervals=intervals)
        except errors.DomainError as exc:
            formset._non_form_errors = formset.error_class([exc.message])
        else:
            messages.success(request, _("Opening hours saved."))
            return redirect("bookings:opening_hours", pk=org.pk)
    return render(request, "bookings/opening_hours.html", {"organization": org, "formset": formset})
