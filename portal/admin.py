"""Back office for accounts: blocking and verification.

Every state change goes through portal.services, so who and when are recorded
and the same rules hold as everywhere else.
"""

from allauth.account.decorators import reauthentication_required
from allauth.socialaccount.models import SocialAccount
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.files.uploadedfile import UploadedFile
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import errors, services
from portal.admin_actions import action_confirmation_response
from portal.images import image_validate_and_normalize
from portal.models import SecurityEvent, TelegramLinkToken, User
from portal.phones import PhoneFormField

# Actions that apps above portal offer in the users' list (billing: "Grant balance").
# Portal knows none of them: an app registers its own in its AppConfig.ready().
_user_actions: list = []


def user_admin_action_register(action) -> None:
    """Offer ``action`` (an admin action function) among the users' admin actions.

    The hook for apps above portal, called from their ``AppConfig.ready()``;
    the action is listed under its function name with its ``description``.
    """
    if action not in _user_actions:
        _user_actions.append(action)


class BlockReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for blocking"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Stored with the block and shown to staff."),
    )


def _user_line(user: User) -> str:
    """A user as the block and erase confirmations list them: the name, then the email if any."""
    return f"{user} ({user.email})" if user.email else str(user)


def _confirms_a_block(request) -> bool:
    """The block action's second step (reason given): the one that blocks."""
    return request.method == "POST" and "apply" in request.POST and "block_users" in request.POST.getlist("action")


class UserAdminChangeForm(UserChangeForm):
    """Checks the profile as the profile services will (phone, avatar), so errors show on the form."""

    class Meta(UserChangeForm.Meta):
        model = User
        field_classes = {**UserChangeForm.Meta.field_classes, "phone": PhoneFormField}

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        if isinstance(upload, UploadedFile):
            try:
                image_validate_and_normalize(upload, max_side=1024, thumbnail_crop=True)
            except errors.DomainError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
            upload.seek(0)
        return upload


class SocialAccountInline(admin.TabularInline):
    model = SocialAccount
    extra = 0
    can_delete = False
    readonly_fields = ["provider", "uid", "date_joined", "last_login"]
    fields = list(readonly_fields)
    verbose_name = _("linked account")
    verbose_name_plural = _("linked accounts (Telegram, VK, Yandex)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
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

    # Blocking asks for the password (or a 2FA code) again unless it was re-entered
    # in the last REAUTHENTICATION_TIMEOUT seconds (the sign-in itself does not
    # count); allauth keeps the submitted form and carries it out once the staff
    # member has confirmed.
    @method_decorator(reauthentication_required(enabled=_confirms_a_block))
    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        for action in _user_actions:
            found = self.get_action(action)  # (func, name, description); None only for an unknown name
            if found is not None:
                actions[found[1]] = found
        return actions

    def save_model(self, request, obj, form, change):
        """The profile (and a new avatar) through portal.services, as on the profile page; the rest as typed."""
        if not change:
            return super().save_model(request, obj, form, change)
        profile = {f: form.cleaned_data[f] for f in services.PROFILE_FIELDS if f in form.cleaned_data}
        avatar = form.cleaned_data.get("avatar") if "avatar" in form.changed_data else None
        rest = [f for f in form.changed_data if f not in profile and f not in ("avatar", "groups", "user_permissions")]
        if avatar is False:  # "clear" ticked: nothing to check
            rest.append("avatar")
        if rest:
            obj.save(update_fields=rest)
        services.user_profile_update(user=obj, **profile)
        if avatar:
            services.user_avatar_set(user=obj, file=avatar)
        obj.refresh_from_db()

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
        return action_confirmation_response(
            request,
            self,
            objects=queryset,
            action_name="block_users",
            title=_("Block users"),
            intro=_(
                "These users will be logged out, refused on the API and in the bots, "
                "and their organizations will leave the catalog:"
            ),
            form=form,
            describe=_user_line,
            submit_label=_("Block"),
        )

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
        return action_confirmation_response(
            request,
            self,
            objects=queryset,
            action_name="erase_users",
            title=_("Erase personal data"),
            intro=_(
                "The personal data of these users will be erased for good: name, email, phone, avatar, linked "
                "accounts and bot chats. Their future bookings are cancelled, their organizations hidden, their "
                "subscriptions stop renewing and their referral codes stop working. Payments, the ledger and past "
                "bookings stay, attached to the anonymised accounts. This cannot be undone."
            ),
            describe=_user_line,
            submit_label=_("Erase"),
        )


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


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security log: read-only, newest first."""

    list_display = ["created_at", "kind", "user", "ip", "actor", "details"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__email", "actor__email", "ip", "details__username"]
    list_select_related = ["user", "actor"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "kind", "user", "actor", "ip", "details"]
    fields = list(readonly_fields)
    show_full_result_count = False  # the log grows without bound; skip the second COUNT(*)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _name_third_party_models() -> None:
    """Give a translatable Russian name to what third-party apps leave in English in the admin:
    allauth's authenticator model has no verbose_name and axes names its app "Axes"."""
    if apps.is_installed("allauth.mfa"):
        authenticator = apps.get_model("mfa", "Authenticator")._meta
        authenticator.verbose_name = _("authenticator")
        authenticator.verbose_name_plural = _("authenticators")
    if apps.is_installed("axes"):
        apps.get_app_config("axes").verbose_name = _("Sign-in attempts")
    if apps.is_installed("allauth.account"):
        # allauth's app is also called "Accounts", like ours: two sections of the same name on the start page.
        apps.get_app_config("account").verbose_name = _("Sign-in email addresses")


_name_third_party_models()
