"""The login lockout (django-axes): who is being locked, and what they are told.

Axes counts failures per (username, client address); the client address is
``portal.client_address.client_ip`` (settings ``AXES_CLIENT_IP_CALLABLE``).
"""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# The keys a username arrives under: allauth's credentials (email), Django's
# (username), the login forms' fields (allauth "login", the admin "username").
_CREDENTIAL_KEYS = ("email", "username", "login")


def login_username(request, credentials: dict | None) -> str | None:
    """The username an attempt is for, normalised so case changes make no new key."""
    for source in (credentials or {}, getattr(request, "POST", None) or {}):
        for key in _CREDENTIAL_KEYS:
            value = source.get(key)
            if value:
                return str(value).strip().lower()[:255]
    return None


def login_is_locked_out(request, credentials: dict) -> bool:
    """Whether this username is locked out for the request's client address."""
    return AxesProxyHandler.is_locked(request, credentials)


def lockout_message() -> str:
    cool_off = get_cool_off()
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    if not minutes:
        return _("Too many failed sign-in attempts. Sign-in is locked; contact support.")
    return ngettext(
        "Too many failed sign-in attempts for this account from your address. "
        "Sign-in is locked for %(minutes)d minute; please try again later.",
        "Too many failed sign-in attempts for this account from your address. "
        "Sign-in is locked for %(minutes)d minutes; please try again later.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out attempt gets (HTTP 429), whichever form it came from."""
    context = {"message": lockout_message(), "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "account/lockout.html", context, status=429)
