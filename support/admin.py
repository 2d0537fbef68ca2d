"""Back office for support tickets: staff move them along the allowed transitions.

Every status change goes through support.services, so it is recorded and the
author is notified, as on the site.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import errors
from support import services
from support.models import Ticket, TicketStatusChange


class TicketStatusChangeInline(admin.TabularInline):
    model = TicketStatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "changed_by", "from_status", "to_status", "comment"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request, obj=None):
        return False


class TicketAdminForm(forms.ModelForm):
    new_status = forms.ChoiceField(label=_("Change status to"), required=False)
    status_comment = forms.CharField(
        label=_("Comment for the user"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    class Meta:
        model = Ticket
        fields = []

    actor = None  # set by TicketAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = services.ticket_allowed_statuses(ticket=self.instance, actor=self.actor) if self.instance.pk else []
        self.fields["new_status"].choices = [("", _("— keep the current status —"))] + [
            (value, Ticket.Status(value).label) for value in allowed
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status_comment") and not cleaned.get("new_status"):
            self.add_error("new_status", _("Choose the new status the comment is about."))
        return cleaned


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = ["id", "subject", "user", "status", "booking", "created_at", "updated_at"]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "subject", "text", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user", "booking__resource"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "subject", "text", "booking", "status", "created_at", "updated_at"]
    fieldsets = (
        (None, {"fields": ("user", "subject", "text", "booking", "status", "created_at", "updated_at")}),
        (_("Change status"), {"fields": ("new_status", "status_comment")}),
    )
    inlines = [TicketStatusChangeInline]
    actions = ["mark_in_progress", "mark_resolved", "mark_rejected", "mark_closed"]

    def has_add_permission(self, request):
        return False  # users open tickets; staff answer them

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        new_status = form.cleaned_data.get("new_status")
        if not new_status:
            return
        try:
            services.ticket_change_status(
                ticket=obj, status=new_status, by=request.user, comment=form.cleaned_data.get("status_comment", "")
            )
        except errors.DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def _bulk_change(self, request, queryset, status: str):
        done, refused = 0, 0
        for ticket in queryset:
            try:
                services.ticket_change_status(ticket=ticket, status=status, by=request.user)
            except errors.DomainError:
                refused += 1
            else:
                done += 1
        label = Ticket.Status(status).label
        self.message_user(
            request,
            ngettext("%(count)d ticket moved to “%(status)s”.", "%(count)d tickets moved to “%(status)s”.", done)
            % {"count": done, "status": label},
            messages.SUCCESS if done else messages.INFO,
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d ticket cannot move to “%(status)s” from its current status.",
                    "%(count)d tickets cannot move to “%(status)s” from their current status.",
                    refused,
                )
                % {"count": refused, "status": label},
                messages.WARNING,
            )

    @admin.action(description=_("Take selected tickets into work"), permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._bulk_change(request, queryset, Ticket.Status.IN_PROGRESS)

    @admin.action(description=_("Mark selected tickets resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        self._bulk_change(request, queryset, Ticket.Status.RESOLVED)

    @admin.action(description=_("Reject selected tickets"), permissions=["change"])
    def mark_rejected(self, request, queryset):
        self._bulk_change(request, queryset, Ticket.Status.REJECTED)

    @admin.action(description=_("Close selected tickets"), permissions=["change"])
    def mark_closed(self, request, queryset):
        self._bulk_change(request, queryset, Ticket.Status.CLOSED)
