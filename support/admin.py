"""Back office for support tickets: staff answer in the conversation and move tickets along the
allowed transitions; unanswered tickets come first, with how long the user has been waiting.

Every message and status change goes through support.services, so it is
recorded and the other side is notified, as on the site.
"""

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import errors
from portal.admin_dashboard import Figure, dashboard_register
from portal.models import User
from support import selectors, services
from support.models import Ticket, TicketMessage, TicketStatusChange
from support.views import attachment_response


class TicketStatusChangeInline(admin.TabularInline):
    model = TicketStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "changed_by", "from_status", "to_status", "comment"]
    fields = list(readonly_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request, obj=None):
        return False


class NeedsAnswerFilter(admin.SimpleListFilter):
    title = _("answer")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [("needed", _("needs an answer")), ("given", _("answered or finished"))]

    def queryset(self, request, queryset):
        if self.value() == "needed":
            return queryset.filter(selectors.NEEDS_ANSWER)
        if self.value() == "given":
            return queryset.exclude(selectors.NEEDS_ANSWER)
        return queryset


class TicketAdminForm(forms.ModelForm):
    reply_text = forms.CharField(
        label=_("Answer to the user"),
        required=False,
        max_length=services.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Sent in the conversation; the user is notified (an appeal without an account: by email)."),
    )
    reply_attachment = forms.FileField(
        label=_("Image for the answer"), required=False, help_text=_("JPEG, PNG or WebP.")
    )
    new_status = forms.ChoiceField(label=_("Change status to"), required=False)
    status_comment = forms.CharField(
        label=_("Comment for the user"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    actor: User | None = None  # set by TicketAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = (
            services.ticket_allowed_statuses(ticket=self.instance, actor=self.actor)
            if self.instance.pk and self.actor is not None
            else []
        )
        cast(forms.ChoiceField, self.fields["new_status"]).choices = [("", _("— keep the current status —"))] + [
            (value, Ticket.Status(value).label) for value in allowed
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("status_comment") and not cleaned.get("new_status"):
            self.add_error("new_status", _("Choose the new status the comment is about."))
        replying = cleaned.get("reply_text") or cleaned.get("reply_attachment")
        reopening = cleaned.get("new_status") in Ticket.OPEN_STATUSES
        if replying and self.instance.pk and not self.instance.is_open and not reopening:
            self.add_error(
                "reply_text", _("The ticket is finished: it takes no new messages. Reopen it first (in work).")
            )
        return cleaned


# What staff see of a ticket above the conversation; none of it is edited here.
TICKET_FIELDS = ("user", "kind", "contact_email", "subject", "booking", "status", "created_at", "waiting")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = ["id", "subject", "author", "kind", "status", "waiting", "booking", "created_at"]
    list_display_links = ["id", "subject"]
    list_filter = [NeedsAnswerFilter, "status", "kind", "created_at"]
    search_fields = [
        "=id",
        "subject",
        "text",
        "contact_email",
        "user__email",
        "user__first_name",
        "user__last_name",
    ]
    list_select_related = ["user", "booking__resource__organization__city"]
    date_hierarchy = "created_at"
    readonly_fields = [*TICKET_FIELDS, "conversation"]
    fieldsets = (
        (None, {"fields": TICKET_FIELDS}),
        (_("Conversation"), {"fields": ("conversation",)}),
        (_("Answer"), {"fields": ("reply_text", "reply_attachment")}),
        (_("Change status"), {"fields": ("new_status", "status_comment")}),
    )
    inlines = [TicketStatusChangeInline]
    actions = ["mark_in_progress", "mark_resolved", "mark_rejected", "mark_closed"]

    class Media:
        css = {"all": ["support/ticket_admin.css"]}

    def has_add_permission(self, request):
        return False  # users open tickets; staff answer them

    def get_queryset(self, request):
        # Unanswered tickets first, the longest waiting on top; then the rest, newest activity first.
        return selectors.tickets_for_staff(super().get_queryset(request))

    def get_ordering(self, request):
        return []  # the queryset's order (above) unless a column header is clicked

    @admin.display(description=_("author"))
    def author(self, ticket):
        return ticket.user or ticket.contact_email or "—"

    @admin.display(description=_("waiting for an answer"), ordering="waiting_since")
    def waiting(self, ticket):
        since = getattr(ticket, "waiting_since", None)
        if since is None and ticket.needs_answer:
            since = ticket.last_user_message_at
        if since is None:
            return "—"
        return format_html('<span class="ticket-waiting">{}</span>', timesince(since, timezone.now()))

    @admin.display(description=_("conversation"))
    def conversation(self, ticket):
        """The whole thread, oldest first: the user's first text, then every message, images as thumbnails."""
        rows = [(ticket.created_at, False, ticket.user or ticket.contact_email, ticket.text, "")]
        for message in services.ticket_message_list(ticket=ticket):
            image = ""
            if message.attachment:
                image = reverse("admin:support_ticket_attachment", args=[ticket.pk, message.pk])
            rows.append((message.created_at, message.by_staff, message.author or "—", message.text, image))
        items = format_html_join(
            "",
            '<li class="ticket-message {}"><div class="ticket-message-meta">{} · {} · {}</div>'
            '<div class="ticket-message-text">{}</div>{}</li>',
            (
                (
                    "from-staff" if by_staff else "from-user",
                    _("support team") if by_staff else _("user"),
                    author,
                    date_format(timezone.localtime(sent), "j E Y, H:i"),
                    text,
                    format_html(
                        '<a href="{}"><img src="{}" alt="{}" class="ticket-attachment-thumb"></a>',
                        image,
                        image,
                        _("attached image"),
                    )
                    if image
                    else "",
                )
                for sent, by_staff, author, text, image in rows
            ),
        )
        return format_html('<ol class="ticket-conversation">{}</ol>', items)

    def get_urls(self):
        return [
            path(
                "<id:pk>/messages/<id:message_pk>/attachment/",
                self.admin_site.admin_view(self.attachment_view),
                name="support_ticket_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request, pk, message_pk):
        if not self.has_view_permission(request):
            raise errors.PermissionDenied  # pragma: no cover - admin_view already requires staff
        return attachment_response(get_object_or_404(TicketMessage, pk=message_pk, ticket_id=pk))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        """Answer and/or change the status; a finished ticket being reopened is reopened before the answer."""
        text = form.cleaned_data.get("reply_text", "")
        attachment = form.cleaned_data.get("reply_attachment")
        new_status = form.cleaned_data.get("new_status")
        steps = [self._answer] if text or attachment else []
        if new_status:
            steps.insert(0 if new_status in Ticket.OPEN_STATUSES else len(steps), self._change_status)
        for step in steps:
            if not step(request, obj, form):
                return

    def _answer(self, request, ticket, form) -> bool:
        try:
            services.ticket_message_add(
                ticket=ticket,
                author=request.user,
                text=form.cleaned_data.get("reply_text", ""),
                attachment=form.cleaned_data.get("reply_attachment"),
                as_staff=True,
            )
        except errors.DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        self.message_user(request, _("The answer has been sent."), messages.SUCCESS)
        return True

    def _change_status(self, request, ticket, form) -> bool:
        try:
            services.ticket_change_status(
                ticket=ticket,
                status=form.cleaned_data["new_status"],
                by=request.user,
                comment=form.cleaned_data.get("status_comment", ""),
            )
        except errors.DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        return True

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


def _open_tickets_figures(request) -> list[Figure]:
    """The admin's start page: open tickets and those waiting for an answer."""
    counts = selectors.ticket_counts()
    changelist = reverse("admin:support_ticket_changelist")
    return [
        Figure(
            key="tickets_open",
            label=_("Open tickets"),
            value=counts["open"],
            url=f"{changelist}?status__in=open,in_progress",
        ),
        Figure(
            key="tickets_waiting",
            label=_("Waiting for an answer"),
            value=counts["needs_answer"],
            url=f"{changelist}?answer=needed",
            attention=counts["needs_answer"] > 0,
        ),
    ]


dashboard_register(key="support", provider=_open_tickets_figures, order=40)
