from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request

    from portal.models import User


class UserBlockedError(PermissionDenied):
    default_detail = _("Your account has been blocked.")
    default_code = "user_blocked"


def authenticated_user(request: Request) -> User:
    """The signed-in user of a request that ``IsAuthenticated`` let through (401 for anybody else)."""
    from portal.models import User  # this module is loaded with the settings, before the models

    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


class NotBlocked(BasePermission):
    """A blocked user gets 403 ``user_blocked`` on every endpoint."""

    def has_permission(self, request, view):
        user = request.user
        if user and user.is_authenticated and getattr(user, "is_blocked", False):
            raise UserBlockedError()
        return True


class SessionAuthentication(DRFSessionAuthentication):
    """DRF's session authentication that refuses a blocked user with 403 ``user_blocked``.

    Checking here, and not only in a permission class, covers views that set
    their own ``permission_classes``.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and getattr(result[0], "is_blocked", False):
            raise UserBlockedError()
        return result


class BlockAwareSessionScheme(SessionScheme):
    """The OpenAPI schema describes the block-aware session as the cookie session it is."""

    target_class = "portal.api_permissions.SessionAuthentication"
