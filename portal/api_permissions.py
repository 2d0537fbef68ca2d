from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


class UserBlockedError(PermissionDenied):
    default_detail = _("Your account has been blocked.")
    default_code = "user_blocked"


class NotBlocked(BasePermission):
    """A blocked user gets 403 ``user_blocked`` on every endpoint."""

    def has_permission(self, request, view):
        user = request.user
        if user and user.is_authenticated and getattr(user, "is_blocked", False):
            raise UserBlockedError()
        return True


class IsStaff(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
