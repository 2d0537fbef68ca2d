"""Staff two-factor authentication: no admin page without TOTP passed in this session.

allauth.mfa does the work (TOTP with recovery codes, the code step at sign-in,
re-authentication by code); this module decides when staff must use it. A
staff session passes once allauth has recorded an ``mfa`` authentication in it:
the code step at sign-in, a code entered at ``/accounts/2fa/reauthenticate/``,
or the code that activated the authenticator app in this very session.
"""

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _


def staff_has_totp(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def session_passed_second_factor(request: HttpRequest) -> bool:
    """True when allauth recorded a second-factor authentication for this user in this session."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def staff_second_factor_redirect(request: HttpRequest) -> HttpResponseRedirect | None:
    """Where a staff member must go before an admin page opens, or None when they may pass.

    Without an authenticator app: to its set-up page. With one, but no code
    entered in this session: to the code page, which comes back here after.
    """
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return None
    if not staff_has_totp(user):
        messages.warning(
            request,
            _(
                "Staff accounts need two-factor authentication. Set up an authenticator app "
                "to open the administration site."
            ),
        )
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
    if not session_passed_second_factor(request):
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")
    return None


@receiver(authenticator_added)
def _activation_passes_the_second_factor(sender, request, user, authenticator, **kwargs):
    """Entering a valid code to activate the app proves the second factor for this session."""
    if request is None or authenticator.type != Authenticator.Type.TOTP:
        return
    if getattr(request, "user", None) is None or request.user.pk != user.pk:
        return
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type, activated=True)
