import time

from csp.constants import NONE
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal.blocked_notice import blocked_message

STAFF_SESSION_STARTED_KEY = "staff_session_started_at"


class BlockedUserMiddleware:
    """End the session of a blocked user on their next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # No session, nobody to check: and the session is left untouched, so
            # public answers don't "Vary: Cookie" for this middleware's sake.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_blocked:
            if request.path.startswith("/api/"):
                # The API answers 403 "user_blocked" (portal.api_permissions.NotBlocked),
                # which tells a client why, rather than a bare 401.
                return self.get_response(request)
            logout(request)
            messages.error(request, blocked_message())
            return redirect("account_login")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY), with nobody allowed to frame the admin and the API.

    User pages may be framed by the Mini App hosts (``FRAME_ANCESTORS``); the
    paths in ``CSP_FRAME_DENY_PREFIXES`` get ``frame-ancestors 'none'`` and
    ``X-Frame-Options: DENY`` (for browsers without CSP level 2).
    """

    def _frame_denied(self, request) -> bool:
        return request.path_info.startswith(tuple(settings.CSP_FRAME_DENY_PREFIXES))

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if self._frame_denied(request):
            parts.replace = {**(parts.replace or {}), "frame-ancestors": [NONE]}
        return parts

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if self._frame_denied(request):
            response.headers["X-Frame-Options"] = "DENY"
        return response


def staff_session_start(sender, request, user, **kwargs):
    """On sign-in (``user_logged_in``): a staff session lasts STAFF_SESSION_AGE from now."""
    session = getattr(request, "session", None)
    if session is None or not user.is_staff:
        return
    session[STAFF_SESSION_STARTED_KEY] = time.time()
    session.set_expiry(settings.STAFF_SESSION_AGE)


class StaffSessionMiddleware:
    """End a staff session STAFF_SESSION_AGE seconds after sign-in, however active.

    Staff sessions open the back office (balances, blocks, mailings), so they are
    kept short; a user who became staff mid-session gets the clock started now.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)  # no session to read (and no Vary: Cookie)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            started = request.session.get(STAFF_SESSION_STARTED_KEY)
            if started is None:
                staff_session_start(None, request, user)
            elif time.time() - started > settings.STAFF_SESSION_AGE:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)  # now anonymous: the API answers 401/403 itself
                messages.info(request, _("Your staff session has ended. Please sign in again."))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)
