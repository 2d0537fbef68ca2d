"""The Mini App start parameter ``ref_<code>`` (registered in ReferralsConfig.ready())."""

from django.urls import reverse

from referrals.services import referral_code_normalize

REFERRAL_START_PREFIX = "ref_"


def referral_start_url(*, user, argument: str) -> str | None:
    """A guest goes to the signup form with the code filled in.

    A signed-in visitor has nothing to sign up for: a new Mini App user's code
    was applied at the sign-in (referrals.signals), so they go home (None).
    """
    code = referral_code_normalize(argument)
    if not code or user.is_authenticated:
        return None
    return f"{reverse('account_signup')}?ref={code}"
