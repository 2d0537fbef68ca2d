"""Back office for accounts and support: blocking, verification, tickets.

Every state change goes through portal.services, so who and when are recorded
and the same rules hold as everywhere else.
"""

from allauth.socialaccount.models import SocialAccount
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import errors, services
from portal.models import TelegramLinkToken, Ticket, TicketStatusChange, User


class BlockReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for blocking"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Stored with the block and shown to staff."),
    )


class SocialAccountInline(admin.TabularInline):
    model = SocialAccount
    extra = 0
    can_delete = False
    fields = ["provider", "uid", "date_joined", "last_login"]
    readonly_fields = fields
    verbose_name = _("linked account")
    verbose_name_plural = _("linked accounts (Telegram, VK, Yandex)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "city",
        "is_staff",
        "is_blocked",
        "is_verified",
        "date_joined",
    ]
    list_filter = ["is_blocked", "is_verified", "is_staff", "is_superuser", "is_active", "city", "date_joined"]
    search_fields = ["email", "first_name", "last_name", "phone", "socialaccount__uid"]
    list_select_related = ["city"]
    # Blocking and verification change only through the actions, which record who and when.
    readonly_fields = [
        "last_login",
        "date_joined",
        "is_blocked",
        "blocked_reason",
        "blocked_at",
        "blocked_by",
        "is_verified",
        "verified_at",
        "verified_by",
    ]
    actions = ["block_users", "unblock_users", "verify_users", "unverify_users", "erase_users"]
    inlines = [SocialAccountInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("first_name", "last_name", "phone", "city", "avatar")}),
        (
            _("Blocking and verification"),
            {
                "description": _("Use the actions in the user list to block, unblock, verify or unverify."),
                "fields": (
                    "is_blocked",
                    "blocked_reason",
                    "blocked_at",
                    "blocked_by",
                    "is_verified",
                    "verified_at",
                    "verified_by",
                ),
            },
        ),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    @admin.action(description=_("Block selected users (asks for a reason)"), permissions=["change"])
    def block_users(self, request, queryset):
        form = BlockReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            count = 0
            for user in queryset:
                try:
                    services.user_block(user=user, reason=form.cleaned_data["reason"], by=request.user)
                except errors.DomainError as exc:
                    self.message_user(request, exc.message, messages.WARNING)
                else:
                    count += 1
            self.message_user(
                request,
                ngettext("%(count)d user blocked.", "%(count)d users blocked.", count) % {"count": count},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Block users"),
            "form": form,
            "users": queryset,
            "action_name": "block_users",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/portal/user/block_users.html", context)

    @admin.action(description=_("Unblock selected users"), permissions=["change"])
    def unblock_users(self, request, queryset):
        count = 0
        for user in queryset.filter(is_blocked=True):
            services.user_unblock(user=user, by=request.user)
            count += 1
        self.message_user(
            request, ngettext("%(count)d user unblocked.", "%(count)d users unblocked.", count) % {"count": count}
        )

    @admin.action(description=_("Verify selected users"), permissions=["change"])
    def verify_users(self, request, queryset):
        count = 0
        for user in queryset.filter(is_verified=False):
            services.user_verify(user=user, by=request.user)
            count += 1
        self.message_user(
            request, ngettext("%(count)d user verified.", "%(count)d users verified.", count) % {"count": count}
        )

    @admin.action(description=_("Withdraw verification of selected users"), permissions=["change"])
    def unverify_users(self, request, queryset):
        count = 0
        for user in queryset.filter(is_verified=True):
            services.user_unverify(user=user, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d verification withdrawn.", "%(count)d verifications withdrawn.", count)
            % {"count": count},
        )

    @admin.action(description=_("Erase personal data of selected users (account deletion)"), permissions=["delete"])
    def erase_users(self, request, queryset):
        """Delete accounts on the people's request (blocked users included), after a confirmation page."""
        if "apply" in request.POST:
            count = 0
            for user in queryset:
                try:
                    services.user_delete(user=user, by=request.user)
                except errors.DomainError as exc:
                    self.message_user(request, f"{user}: {exc.message}", messages.WARNING)
                else:
                    count += 1
            self.message_user(
                request,
                ngettext("%(count)d account erased.", "%(count)d accounts erased.", count) % {"count": count},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase personal data"),
            "users": queryset,
            "action_name": "erase_users",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/portal/user/erase_users.html", context)


@admin.register(TelegramLinkToken)
class TelegramLinkTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "expires_at", "used_at", "telegram_id"]
    list_select_related = ["user"]
    search_fields = ["user__email", "telegram_id"]
    readonly_fields = ["user", "token_hash", "created_at", "expires_at", "used_at", "telegram_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
