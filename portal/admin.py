from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_blocked", "is_verified", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "is_blocked", "is_verified"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    readonly_fields = ["last_login", "date_joined", "blocked_at", "blocked_by", "verified_at", "verified_by"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("first_name", "last_name", "phone", "city", "avatar")}),
        (
            _("Blocking and verification"),
            {
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
