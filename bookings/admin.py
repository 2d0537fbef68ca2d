"""Back office for bookings: resources, schedules, bookings with check-in."""

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import selectors, services
from bookings.exports import BookingExport
from bookings.hours import local_to_utc
from bookings.models import (
    Booking,
    BookingReminder,
    Closure,
    OpeningHours,
    OrganizationSchedule,
    Resource,
    Review,
)
from bookings.zones import city_zone_label
from portal import errors
from portal.admin_actions import action_confirmation_response
from portal.admin_dashboard import Figure, dashboard_register
from portal.exports import ExportAdminMixin
from portal.local_time import city_datetime, city_localtime
from portal.models import User
from portal.service_forms import ServiceSavingAdminMixin, instance_refresh

RESOURCE_FIELDS = ("name", "kind", "description", "capacity", "amenities", "is_active")


class HideReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept with the review for the record; the author does not see it."),
    )


def _review_line(review: Review) -> str:
    """A review as the hide confirmation lists it: where, how many stars, who, and the start of the text."""
    return f"{review.organization} — {review.rating}★ {review.author_name}: {Truncator(review.text).chars(120)}"


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Reviews are written by clients and answered by owners; staff only hide (with a reason) or show them."""

    list_display = ["organization", "rating", "author", "short_text", "has_reply", "is_hidden", "created_at"]
    list_filter = ["is_hidden", "rating", "organization__city"]
    list_select_related = ["organization", "author"]
    search_fields = ["organization__name", "author__email", "text"]
    date_hierarchy = "created_at"
    actions = ["hide_reviews", "unhide_reviews"]
    readonly_fields = [
        "organization",
        "booking",
        "author",
        "rating",
        "text",
        "created_at",
        "reply",
        "replied_at",
        "replied_by",
        "is_hidden",
        "hidden_reason",
        "hidden_at",
        "hidden_by",
    ]
    fields = list(readonly_fields)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return (obj.text[:80] + "…") if len(obj.text) > 80 else obj.text

    @admin.display(description=_("answered"), boolean=True)
    def has_reply(self, obj):
        return bool(obj.reply)

    @admin.action(description=_("Hide selected reviews (asks for a reason)"), permissions=["change"])
    def hide_reviews(self, request, queryset):
        form = HideReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            count = 0
            for review in queryset.filter(is_hidden=False):
                services.review_hide(review=review, by=request.user, reason=form.cleaned_data["reason"])
                count += 1
            self.message_user(
                request,
                ngettext("%(count)d review hidden.", "%(count)d reviews hidden.", count) % {"count": count},
                messages.SUCCESS,
            )
            return None
        return action_confirmation_response(
            request,
            self,
            objects=queryset.select_related("organization", "author"),
            action_name="hide_reviews",
            title=_("Hide reviews"),
            intro=_("These reviews will disappear from the organization's page and stop counting in its rating:"),
            form=form,
            describe=_review_line,
            submit_label=_("Hide"),
        )

    @admin.action(description=_("Show selected reviews again"), permissions=["change"])
    def unhide_reviews(self, request, queryset):
        count = 0
        for review in queryset.filter(is_hidden=True):
            services.review_unhide(review=review, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d review shown again.", "%(count)d reviews shown again.", count) % {"count": count},
        )


class ResourceAdminForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = ["organization", "name", "kind", "services", "description", "capacity", "amenities", "is_active"]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        organization = data.get("organization")
        foreign = [s.name for s in data.get("services") or [] if organization and s.organization_id != organization.pk]
        if foreign:
            self.add_error(
                "services", _("Not services of this organization: %(names)s") % {"names": ", ".join(foreign)}
            )
        return data


@admin.register(Resource)
class ResourceAdmin(ServiceSavingAdminMixin, admin.ModelAdmin):
    """Resources of any organization; saving goes through resource_create/resource_update."""

    form = ResourceAdminForm
    list_display = ["name", "organization", "kind", "capacity", "is_active"]
    ordering = ["organization__name", "name"]  # by the organization's name (Meta.ordering sorts by its id)
    list_filter = ["kind", "is_active", "organization__city"]
    search_fields = ["name", "organization__name"]
    raw_id_fields = ["organization"]
    autocomplete_fields = ["services"]

    def get_readonly_fields(self, request, obj=None):
        # A resource stays with its organization (its bookings do).
        return ["organization"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in RESOURCE_FIELDS if f in form.cleaned_data}
        if change:
            saved = services.resource_update(actor=request.user, resource=Resource.objects.get(pk=obj.pk), **data)
        else:
            saved = services.resource_create(actor=request.user, organization=form.cleaned_data["organization"], **data)
        instance_refresh(obj, saved)


class OpeningHoursFormSet(forms.BaseInlineFormSet):
    """Shows the week's rules (``services.opening_hours_validate``) above the rows."""

    def intervals(self) -> list:
        return [
            (f.cleaned_data["weekday"], f.cleaned_data["opens_at"], f.cleaned_data["closes_at"])
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]

    def clean(self):
        super().clean()
        try:
            services.opening_hours_validate(intervals=self.intervals())
        except errors.DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 1


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 1


@admin.register(OrganizationSchedule)
class OrganizationScheduleAdmin(ServiceSavingAdminMixin, admin.ModelAdmin):
    """Opening hours and closed days of an organization, edited inline."""

    list_display = ["name", "city", "status"]
    list_filter = ["city"]
    search_fields = ["name"]
    fields = ["name", "city"]
    readonly_fields = ["name", "city"]
    inlines = [OpeningHoursInline, ClosureInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # the organization's own fields are read-only here; only the inlines change

    def save_related(self, request, form, formsets, change):
        # The week of opening hours through the service (its rules); closed days as typed.
        for formset in formsets:
            if formset.model is OpeningHours:
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
                services.opening_hours_replace(
                    actor=request.user, organization=form.instance, intervals=formset.intervals()
                )
            else:
                self.save_formset(request, form, formset, change=change)


#: Which form field a refused booking's error belongs to, by the domain error's code.
ERROR_FIELDS = {
    "slot_taken": "time",
    "closed": "time",
    "in_the_past": "time",
    "too_long": "time",
    "invalid_range": "time",
    "invalid_duration": "service",
    "invalid_service": "service",
    "service_not_offered": "service",
    "resource_inactive": "resource",
    "organization_unavailable": "resource",
    "invalid_resource": "resource",
    "user_blocked": "user",
}


class BookingAdminForm(forms.ModelForm):
    """Staff book and edit through the booking services: same rules, errors next to the fields.

    The date and time are the organization's local ones (its city's zone).
    On a valid form the service has already made the change (inside the admin's
    transaction), so saving the form writes nothing more.
    """

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label=_("Time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Local time of the organization's city."),
    )

    actor: User | None = None  # set per request by BookingAdmin.get_form

    class Meta:
        model = Booking
        fields = ["user", "resource", "service", "comment", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            local = timezone.localtime(self.instance.starts_at, self.instance.resource.organization.city.tzinfo)
            self.initial.setdefault("date", local.date())
            self.initial.setdefault("time", local.time().replace(second=0, microsecond=0))

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.errors or "time" not in self.fields:  # invalid, or a past booking with nothing to edit
            return data
        resource = data.get("resource") or self.instance.resource
        starts_at = local_to_utc(data["date"], data["time"], resource.organization.city.tzinfo)
        try:
            if self.instance.pk:
                if self.actor is None:
                    raise ImproperlyConfigured("BookingAdminForm changes a booking for BookingAdmin.get_form's user.")
                booking = self.instance
                if (starts_at, resource.pk) != (booking.starts_at, booking.resource_id):
                    booking = services.booking_move(
                        booking=booking, actor=self.actor, starts_at=starts_at, resource=resource
                    )
                booking = services.booking_note_update(
                    booking=booking, actor=self.actor, comment=data.get("comment", ""), phone=data.get("phone", "")
                )
            else:
                booking = services.booking_create(
                    user=data["user"],
                    resource=resource,
                    service=data.get("service"),
                    starts_at=starts_at,
                    comment=data.get("comment", ""),
                    phone=data.get("phone", ""),
                    actor=self.actor,
                )
        except errors.DomainError as exc:
            field = exc.extra.get("field") or ERROR_FIELDS.get(exc.code)
            self.add_error(field if field in self.fields else None, exc.message)
            return data
        self.instance = booking
        return data

    def _post_clean(self):
        # The service validated and saved the booking; the model form has nothing left to check or copy.
        pass


@admin.register(Booking)
class BookingAdmin(ExportAdminMixin, admin.ModelAdmin):
    form = BookingAdminForm
    resource_classes = [BookingExport]
    list_display = ["id", "starts_local", "resource", "organization", "user", "status", "checked_in_at"]
    list_filter = ["status", "resource__kind", "resource__organization__city", "starts_at"]
    search_fields = ["user__email", "resource__name", "resource__organization__name"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["user", "resource", "service"]
    list_select_related = ["resource__organization__city", "user"]
    actions = ["check_in", "cancel"]
    # Status, check-in and cancellation change only through the actions below
    # (the services); time, resource and notes through the form, which calls them too.
    always_readonly = [
        "local_time",
        "status",
        "participants_list",
        "checked_in_at",
        "checked_in_by",
        "cancelled_at",
        "cancelled_by",
        "scheduled_at",
        "created_at",
        "updated_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = cast(type[BookingAdminForm], super().get_form(request, obj, change=change, **kwargs))
        form.actor = request.user
        return form

    @admin.display(description=_("time (city zone)"), ordering="starts_at")
    def starts_local(self, booking):
        """Start–end in the organization's city zone, the city named: "12 марта 2026, 08:00–09:00 (Москва)"."""
        city = booking.resource.organization.city
        end = city_localtime(booking.ends_at, city)
        start = city_datetime(booking.starts_at, city)
        return start.replace(" (", f"–{end:%H:%M} (", 1)

    @admin.display(description=_("organization"), ordering="resource__organization__name")
    def organization(self, booking):
        return booking.resource.organization

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "resource", "service", "date", "time", "comment", "phone"]
        when = ["date", "time"] if self._editable(obj) else []
        return ["user", "resource", "service", "local_time", *when, "comment", "phone", *self.always_readonly[1:]]

    @staticmethod
    def _editable(obj) -> bool:
        return obj.status in (Booking.Status.PENDING, Booking.Status.CONFIRMED)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The booker and the service stay; an upcoming booking moves in time or to another resource.
        fixed = ["user", "service"] if self._editable(obj) else ["user", "service", "resource", "comment", "phone"]
        return [*fixed, *self.always_readonly]

    def save_model(self, request, obj, form, change):
        # The booking service already wrote it while the form was validated (BookingAdminForm.clean).
        pass

    def save_related(self, request, form, formsets, change):
        pass

    @admin.display(description=_("Time (local)"))
    def local_time(self, obj):
        if not obj.pk:
            return "—"
        city = obj.resource.organization.city
        starts = timezone.localtime(obj.starts_at, city.tzinfo)
        ends = timezone.localtime(obj.ends_at, city.tzinfo)
        return f"{date_format(starts, 'j E Y, H:i')}–{ends:%H:%M} ({city_zone_label(city, obj.starts_at)})"

    @admin.display(description=_("Participants"))
    def participants_list(self, obj):
        links = obj.participant_links.select_related("user").order_by("invited_at") if obj.pk else []
        return ", ".join(f"{link.user.email} ({link.get_status_display()})" for link in links) or "—"

    @admin.action(description=_("Check in selected bookings"))
    def check_in(self, request, queryset):
        for booking in queryset:
            try:
                booking, already = services.booking_check_in(booking=booking, actor=request.user)
                self.message_user(request, f"№{booking.pk}: {services.checkin_message(booking, already)}")
            except errors.DomainError as exc:
                self.message_user(request, f"№{booking.pk}: {exc.message}", level=messages.ERROR)

    @admin.action(description=_("Cancel selected bookings"))
    def cancel(self, request, queryset):
        for booking in queryset:
            try:
                services.booking_cancel(booking=booking, actor=request.user)
            except errors.DomainError as exc:
                self.message_user(request, f"№{booking.pk}: {exc.message}", level=messages.ERROR)


@admin.register(BookingReminder)
class BookingReminderAdmin(admin.ModelAdmin):
    list_display = ["booking", "user", "offset_minutes", "starts_at", "sent", "created_at"]
    list_filter = ["offset_minutes", "sent"]
    list_select_related = ["booking__resource__organization__city", "user"]
    raw_id_fields = ["booking", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _today_figures(request) -> list[Figure]:
    """The admin's start page: today's bookings (starting today; made today)."""
    today = timezone.localdate()
    counts = selectors.booking_counts_for_day(day=today)
    changelist = reverse("admin:bookings_booking_changelist")
    day = f"starts_at__day={today.day}&starts_at__month={today.month}&starts_at__year={today.year}"
    return [
        Figure(
            key="bookings_today",
            label=_("Bookings today"),
            value=counts["starting"],
            url=f"{changelist}?{day}",
            hint=ngettext("%(count)d made today", "%(count)d made today", counts["created"])
            % {"count": counts["created"]},
        )
    ]


dashboard_register(key="bookings", provider=_today_figures, order=10)
