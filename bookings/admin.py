"""Back office for bookings: resources, schedules, bookings with check-in."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import selectors, services
from bookings.exports import BookingExport
from bookings.models import (
    Booking,
    BookingParticipant,
    BookingReminder,
    Closure,
    OpeningHours,
    OrganizationSchedule,
    Resource,
)
from portal import errors
from portal.admin_dashboard import Figure, dashboard_register
from portal.exports import ExportAdminMixin
from portal.local_time import city_datetime, city_localtime


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "capacity", "is_active"]
    list_filter = ["kind", "is_active", "organization__city"]
    search_fields = ["name", "organization__name"]
    raw_id_fields = ["organization"]


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


class ParticipantInline(admin.TabularInline):
    model = BookingParticipant
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["invited_at", "responded_at"]


@admin.register(Booking)
class BookingAdmin(ExportAdminMixin, admin.ModelAdmin):
    resource_classes = [BookingExport]
    list_display = ["id", "starts_local", "resource", "organization", "user", "status", "checked_in_at"]
    list_filter = ["status", "resource__kind", "resource__organization__city", "starts_at"]
    search_fields = ["user__email", "resource__name", "resource__organization__name"]
    date_hierarchy = "starts_at"
    # Time, resource, service and booker change only through the booking rules
    # (opening hours, overlaps, notifications, reminders): moving is done on the
    # booking page or the API, cancelling and checking in by the actions below.
    readonly_fields = [
        "starts_local",
        "resource",
        "service",
        "user",
        "starts_at",
        "ends_at",
        "status",
        "checked_in_at",
        "checked_in_by",
        "cancelled_at",
        "cancelled_by",
        "scheduled_at",
        "created_at",
        "updated_at",
    ]
    list_select_related = ["resource__organization__city", "user"]
    inlines = [ParticipantInline]
    actions = ["check_in", "cancel"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("resource__organization__city")

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

    def has_add_permission(self, request):
        # Bookings are made through the booking rules (pages and API), not typed in here.
        return False

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
