"""Remember a referral code from ``?ref=<code>`` links for the signup form."""

import contextvars
import re

SESSION_KEY = "referral_code"
_CODE_RE = re.compile(r"^[A-Za-z0-9]{4,32}$")

# The code pending for the current request (from ?ref= or the session). The
# signup form reads it to prefill its field: allauth builds that form without
# the request.
pending_code: contextvars.ContextVar[str] = contextvars.ContextVar("referral_pending_code", default="")


class ReferralCodeMiddleware:
    """Store ``?ref=<code>`` from any page in the session, and expose it to the signup form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ref = request.GET.get("ref", "").strip()
        session = getattr(request, "session", None)
        if ref and _CODE_RE.match(ref):
            ref = ref.upper()
            if session is not None and session.get(SESSION_KEY) != ref:
                session[SESSION_KEY] = ref
        elif session is not None:
            ref = session.get(SESSION_KEY, "")
        else:
            ref = ""
        token = pending_code.set(ref)
        try:
            return self.get_response(request)
        finally:
            pending_code.reset(token)
