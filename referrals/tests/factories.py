from datetime import timedelta

import factory
from django.utils import timezone

from portal.tests.factories import UserFactory
from referrals.models import Referral, ReferralCode


class ReferralCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralCode

    user = factory.SubFactory(UserFactory)
    code = factory.Sequence(lambda n: f"TEST{n:04d}".replace("0", "A").replace("1", "B"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    is_active = True


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    code = factory.SubFactory(ReferralCodeFactory)
    referrer = factory.LazyAttribute(lambda o: o.code.user)
    referred = factory.SubFactory(UserFactory)
    code_text = factory.LazyAttribute(lambda o: o.code.code)
    source = Referral.Source.SITE
