"""portal.signals.user_erasing in referrals: codes switched off, no bonus for an erased referrer."""

import pytest

from billing.models import LedgerEntry
from portal.services import user_delete
from referrals.models import ReferralCode
from referrals.services import referral_apply, referral_bonus_pay
from referrals.tests.factories import ReferralCodeFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def test_codes_are_switched_off_and_the_email_lookup_forgets_them(user, other_user, api_client, settings):
    settings.REFERRAL_APPLY_WINDOW_HOURS = 48
    code = ReferralCodeFactory(user=user)
    theirs = ReferralCodeFactory(user=other_user)
    email = user.email
    assert api_client.get("/api/v1/referrals/code/", {"email": email}).json()["code"] == code.code  # now cached

    user_delete(user=user)

    assert not ReferralCode.objects.get(pk=code.pk).is_active
    assert ReferralCode.objects.get(pk=theirs.pk).is_active
    assert api_client.get("/api/v1/referrals/code/", {"email": email}).status_code == 404
    from portal import errors
    from portal.tests.factories import UserFactory

    with pytest.raises(errors.DomainError):
        referral_apply(user=UserFactory(), code=code.code, source="site")


def test_an_erased_referrer_gets_no_bonus(settings):
    settings.REFERRAL_BONUS_AMOUNT = "300"
    referral = ReferralFactory()

    user_delete(user=referral.referrer)

    assert referral_bonus_pay(referred_user=referral.referred) is None
    assert not LedgerEntry.objects.filter(user=referral.referrer).exists()
