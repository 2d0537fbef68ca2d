"""notify_referrer: one Russian email to the referrer, a bot notification only when a bot reaches them."""

import pytest
from django.core import mail

from mailings.models import Notification
from portal.tests.factories import UserFactory
from referrals import services
from referrals.models import Referral
from referrals.tasks import notify_referrer
from referrals.tests.factories import ReferralCodeFactory

pytestmark = pytest.mark.django_db


def test_new_referral_emails_the_referrer_once(django_capture_on_commit_callbacks):
    referrer = UserFactory(email="referrer@example.com")
    code = ReferralCodeFactory(user=referrer)
    newcomer = UserFactory(first_name="Мария", last_name="Иванова")

    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_apply(user=newcomer, code=code.code, source="site")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["referrer@example.com"]
    assert "Мария Иванова" in email.subject
    assert "Мария Иванова" in email.body and code.code in email.body
    assert "/referrals/" in email.body
    html = email.alternatives[0][0]
    assert "Мария Иванова" in html
    referral.refresh_from_db()
    assert referral.referrer_emailed_at is not None

    # A retried / duplicated task does not send a second email.
    notify_referrer.delay(referral.pk)
    notify_referrer(referral.pk)
    assert len(mail.outbox) == 1
    # No bot reaches the referrer, so notify() is not used (it would pick email again).
    assert not Notification.objects.filter(user=referrer).exists()


def test_email_is_in_russian(django_capture_on_commit_callbacks):
    referrer = UserFactory()
    code = ReferralCodeFactory(user=referrer)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_apply(user=UserFactory(first_name="Олег", last_name=""), code=code.code, source="site")
    assert "присоединился" in mail.outbox[0].subject or "зарегистрировался" in mail.outbox[0].body


def test_referrer_without_email_is_notified_through_notify(django_capture_on_commit_callbacks):
    referrer = UserFactory(email=None)
    code = ReferralCodeFactory(user=referrer)
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_apply(user=UserFactory(), code=code.code, source="bot")

    assert mail.outbox == []
    notification = Notification.objects.get(user=referrer)
    assert notification.kind == "referral_joined"
    assert notification.dedupe_key == f"referral:{referral.pk}:joined"

    notify_referrer(referral.pk)
    assert Notification.objects.filter(user=referrer).count() == 1


def test_blocked_referrer_gets_nothing():
    referrer = UserFactory()
    code = ReferralCodeFactory(user=referrer)
    referral = services.referral_apply(user=UserFactory(), code=code.code, source="site")
    referrer.is_blocked = True
    referrer.save()

    notify_referrer(referral.pk)

    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_missing_referral_is_a_no_op():
    notify_referrer(987654)
    assert mail.outbox == []
    assert not Referral.objects.exists()
