from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _


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
            messages.error(request, _("Your account has been blocked. Please contact support."))
            return redirect("account_login")
        return self.get_response(request)


class FrameAncestorsMiddleware:
    """Allow only our own pages and the Mini App hosts to frame the site."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = "frame-ancestors " + " ".join(settings.FRAME_ANCESTORS)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        return response
