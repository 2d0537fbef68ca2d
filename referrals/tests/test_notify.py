"""notify_referrer: the referrer gets one Russian email and, when a bot reaches them, one bot message."""

import pytest
from django.core import mail

from mailings.models import Notification
from portal.tests.factories import UserFactory
from referrals import services
from referrals.models import Referral
from referrals.tasks import notify_referrer
from referrals.tests.factories import ReferralCodeFactory, ReferralFactory

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
    notice = Notification.objects.get(user=referrer, kind="referral_joined_email")
    assert (notice.dedupe_key, notice.channel, notice.status) == (
        f"referral:{referral.pk}:joined:email",
        "email",
        "sent",
    )

    # A retried / duplicated task records and sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        notify_referrer.delay(referral.pk)
        notify_referrer(referral.pk)
    assert len(mail.outbox) == 1
    # No bot reaches the referrer: the bot notice is recorded as skipped, never sent by email.
    bot_notice = Notification.objects.get(user=referrer, kind="referral_joined")
    assert (bot_notice.dedupe_key, bot_notice.status) == (f"referral:{referral.pk}:joined", "skipped")


def test_email_is_in_russian_and_names_the_bonus(settings, django_capture_on_commit_callbacks):
    settings.REFERRAL_BONUS_AMOUNT = "1500"
    referrer = UserFactory()
    code = ReferralCodeFactory(user=referrer)
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_apply(user=UserFactory(first_name="Олег", last_name=""), code=code.code, source="site")
    assert "присоединился" in mail.outbox[0].subject or "зарегистрировался" in mail.outbox[0].body
    assert "1\u00a0500\u00a0₽" in mail.outbox[0].body


def test_without_a_bonus_the_email_does_not_mention_one(settings, django_capture_on_commit_callbacks):
    settings.REFERRAL_BONUS_AMOUNT = "0"
    code = ReferralCodeFactory(user=UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_apply(user=UserFactory(), code=code.code, source="site")
    assert "₽" not in mail.outbox[0].body


def test_referrer_without_email_or_bot_gets_nothing_but_it_is_recorded(django_capture_on_commit_callbacks):
    referrer = UserFactory(email=None)
    code = ReferralCodeFactory(user=referrer)
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.referral_apply(user=UserFactory(), code=code.code, source="bot")

    assert mail.outbox == []
    statuses = dict(Notification.objects.filter(user=referrer).values_list("dedupe_key", "status"))
    assert statuses == {f"referral:{referral.pk}:joined": "skipped", f"referral:{referral.pk}:joined:email": "skipped"}

    notify_referrer(referral.pk)
    assert Notification.objects.filter(user=referrer).count() == 2


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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_notice_takes_no_lock_on_the_referral(row_locked_elsewhere, django_capture_on_commit_callbacks):
    """Before, the email went out over SMTP inside select_for_update on the Referral row."""
    referral = ReferralFactory(code=ReferralCodeFactory(user=UserFactory(email="owner@example.com")))

    with row_locked_elsewhere(referral), django_capture_on_commit_callbacks(execute=True):
        notify_referrer(referral.pk)

    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
