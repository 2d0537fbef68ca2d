"""Back office for bookings: resources, schedules, bookings with check-in."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from bookings import services
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
class BookingAdmin(admin.ModelAdmin):
    list_display = ["id", "starts_at", "ends_at", "resource", "user", "status", "checked_in_at"]
    list_filter = ["status", "resource__kind", "resource__organization__city", "starts_at"]
    search_fields = ["user__email", "resource__name", "resource__organization__name"]
    date_hierarchy = "starts_at"
    # Time, resource, service and booker change only through the booking rules
    # (opening hours, overlaps, notifications, reminders): moving is done on the
    # booking page or the API, cancelling and checking in by the actions below.
    readonly_fields = [
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
    list_select_related = ["resource__organization", "user"]
    inlines = [ParticipantInline]
    actions = ["check_in", "cancel"]

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
    raw_id_fields = ["booking", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
