"""Remember a referral code from ``?ref=<code>`` links for the signup form."""

import contextvars

from referrals.services import referral_code_normalize

SESSION_KEY = "referral_code"

# The current request, for the signup form: allauth builds that form without
# the request, and the form prefills its field from ?ref= or the session.
_current_request: contextvars.ContextVar = contextvars.ContextVar("referral_current_request", default=None)


def pending_code() -> str:
    """The referral code waiting for the current visitor's signup ("" when none)."""
    request = _current_request.get()
    if request is None:
        return ""
    ref = referral_code_normalize(request.GET.get("ref"))
    if ref:
        return ref
    session = getattr(request, "session", None)
    return session.get(SESSION_KEY, "") if session is not None else ""


def forget_pending_code() -> None:
    """Drop the remembered code once a signup form has been sent with it."""
    request = _current_request.get()
    session = getattr(request, "session", None) if request is not None else None
    if session is not None:
        session.pop(SESSION_KEY, None)


class ReferralCodeMiddleware:
    """Store ``?ref=<code>`` from any page in the session; expose the request to the signup form.

    This middleware touches the session only on a ``?ref=`` request or when the
    signup form asks for the pending code. (It does not keep pages free of
    ``Vary: Cookie``: the blocked-user check loads the session on every request.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ref = referral_code_normalize(request.GET.get("ref"))
        session = getattr(request, "session", None)
        if ref and session is not None and session.get(SESSION_KEY) != ref:
            session[SESSION_KEY] = ref
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
