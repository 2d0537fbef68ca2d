"""Back office for bookings: resources, schedules, bookings with check-in."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from bookings import services
from bookings.hours import local_to_utc
from bookings.models import (
    Booking,
    BookingReminder,
    Closure,
    OpeningHours,
    OrganizationSchedule,
    Resource,
)
from bookings.zones import city_zone_label
from portal import errors


class ResourceAdminForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = ["organization", "name", "kind", "services", "description", "capacity", "amenities", "is_active"]

    def clean(self):
        data = super().clean()
        organization = data.get("organization")
        foreign = [s.name for s in data.get("services") or [] if organization and s.organization_id != organization.pk]
        if foreign:
            self.add_error(
                "services", _("Not services of this organization: %(names)s") % {"names": ", ".join(foreign)}
            )
        return data


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    form = ResourceAdminForm
    list_display = ["name", "organization", "kind", "capacity", "is_active"]
    list_filter = ["kind", "is_active", "organization__city"]
    search_fields = ["name", "organization__name"]
    raw_id_fields = ["organization"]
    autocomplete_fields = ["services"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 1


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 1


@admin.register(OrganizationSchedule)
class OrganizationScheduleAdmin(admin.ModelAdmin):
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

    actor = None  # set per request by BookingAdmin.get_form

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
        data = super().clean()
        if self.errors or "time" not in self.fields:  # invalid, or a past booking with nothing to edit
            return data
        resource = data.get("resource") or self.instance.resource
        starts_at = local_to_utc(data["date"], data["time"], resource.organization.city.tzinfo)
        try:
            if self.instance.pk:
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
class BookingAdmin(admin.ModelAdmin):
    form = BookingAdminForm
    list_display = ["id", "starts_at", "ends_at", "resource", "user", "status", "checked_in_at"]
    list_filter = ["status", "resource__kind", "resource__organization__city", "starts_at"]
    search_fields = ["user__email", "resource__name", "resource__organization__name"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["user", "resource", "service"]
    list_select_related = ["resource__organization", "user"]
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

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

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
    raw_id_fields = ["booking", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
