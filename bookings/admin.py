"""Back office for bookings: resources, schedules, bookings with check-in."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
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
    Review,
)
from portal import errors
from portal.admin_dashboard import Figure, dashboard_register
from portal.exports import ExportAdminMixin
from portal.local_time import city_datetime, city_localtime
from portal.service_forms import ServiceSavingAdminMixin, instance_refresh

RESOURCE_FIELDS = ("name", "kind", "description", "capacity", "amenities", "is_active")


class HideReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept with the review for the record; the author does not see it."),
    )


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Reviews are written by clients and answered by owners; staff only hide (with a reason) or show them."""

    list_display = ["organization", "rating", "author", "short_text", "has_reply", "is_hidden", "created_at"]
    list_filter = ["is_hidden", "rating", "organization__city"]
    list_select_related = ["organization", "author"]
    search_fields = ["organization__name", "author__email", "text"]
    date_hierarchy = "created_at"
    actions = ["hide_reviews", "unhide_reviews"]
    fields = [
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
    readonly_fields = fields

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
        context = {
            **self.admin_site.each_context(request),
            "title": _("Hide reviews"),
            "form": form,
            "reviews": queryset.select_related("organization", "author"),
            "action_name": "hide_reviews",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/bookings/review/hide_reviews.html", context)

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


@admin.register(Resource)
class ResourceAdmin(ServiceSavingAdminMixin, admin.ModelAdmin):
    """Resources of any organization; saving goes through resource_create/resource_update."""

    list_display = ["name", "organization", "kind", "capacity", "is_active"]
    list_filter = ["kind", "is_active", "organization__city"]
    search_fields = ["name", "organization__name"]
    raw_id_fields = ["organization"]

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
