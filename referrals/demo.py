"""Demo data for referrals: an active code for the first demo user and two friends who joined with it."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from referrals.models import Referral, ReferralCode

DEMO_CODE = "ANNA7777"


@transaction.atomic
def seed(stdout, context) -> dict:
    users = list(context.get("users") or [])
    if not users:
        stdout.write("  referrals: no demo users, skipped")
        return {}
    referrer, friends = users[0], users[1:3]

    code = ReferralCode.objects.filter(code=DEMO_CODE).first()
    if code is None:
        ReferralCode.objects.filter(user=referrer, is_active=True).update(is_active=False)
        code = ReferralCode.objects.create(
            user=referrer, code=DEMO_CODE, expires_at=timezone.now() + timedelta(days=365), is_active=True
        )
    referrals = []
    for friend in friends:
        referral, _created = Referral.objects.get_or_create(
            referred=friend,
            defaults={"referrer": code.user, "code": code, "code_text": code.code, "source": Referral.Source.SITE},
        )
        referrals.append(referral)
    stdout.write(f"  referral code {code.code} for {code.user.email}, {len(referrals)} referrals")
    return {"referral_code": code, "referrals": referrals}
