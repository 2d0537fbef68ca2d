"""referral_apply: every signup path and every refusal reason."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from portal.errors import Conflict, ValidationError
from portal.tests.factories import UserFactory
from referrals import services
from referrals.models import Referral
from referrals.tests.concurrency import run_at_once
from referrals.tests.factories import ReferralCodeFactory, ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(other_user):
    return ReferralCodeFactory(user=other_user, code="ABCD2345")


@pytest.mark.parametrize("source", ["site", "api", "miniapp", "bot"])
def test_apply_records_the_referral(user, code, source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        referral = services.referral_apply(user=user, code=" abcd2345 ", source=source)

    assert referral.referrer == code.user
    assert referral.referred == user
    assert referral.code == code
    assert referral.code_text == "ABCD2345"
    assert referral.source == source
    assert len(callbacks) == 1  # notify_referrer is queued after commit


def _assert_refused(user, code_text, exc_class, error_code, source="api"):
    with pytest.raises(exc_class) as exc:
        services.referral_apply(user=user, code=code_text, source=source)
    assert exc.value.code == error_code
    assert str(exc.value)  # a human message, not empty
    return exc.value


def test_unknown_code_is_refused(user, code):
    _assert_refused(user, "ZZZZ9999", ValidationError, "code_not_found")
    _assert_refused(user, "", ValidationError, "code_not_found")
    assert not Referral.objects.exists()


@pytest.mark.parametrize("text", ["AB\x00CD2345", "ABCD-2345", "ABCDЁ234", "A" * 33])
def test_malformed_code_is_refused_as_not_found(user, code, text):
    """The bot and the Mini App pass raw payload text: it must never reach the database as is."""
    _assert_refused(user, text, ValidationError, "code_not_found", source="bot")
    assert not Referral.objects.exists()


def test_self_referral_is_refused(user):
    own = ReferralCodeFactory(user=user)
    _assert_refused(user, own.code, ValidationError, "self_referral")
    assert not Referral.objects.exists()


def test_expired_code_is_refused(user):
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        expired = ReferralCodeFactory(expires_at=timezone.now() + timedelta(days=1))
    _assert_refused(user, expired.code, ValidationError, "code_expired")
    assert not Referral.objects.exists()


def test_inactive_code_is_refused(user):
    inactive = ReferralCodeFactory(is_active=False)
    _assert_refused(user, inactive.code, ValidationError, "code_inactive")
    assert not Referral.objects.exists()


def test_blocked_referrers_code_is_refused_as_not_found(user, code):
    code.user.is_blocked = True
    code.user.save()
    _assert_refused(user, code.code, ValidationError, "code_not_found")


def test_already_referred_is_refused(user, code):
    ReferralFactory(referred=user)
    _assert_refused(user, code.code, Conflict, "already_referred")
    assert Referral.objects.filter(referred=user).count() == 1


def test_apply_twice_is_refused_the_second_time(user, code):
    services.referral_apply(user=user, code=code.code, source="api")
    another = ReferralCodeFactory()
    _assert_refused(user, another.code, Conflict, "already_referred")
    assert Referral.objects.get(referred=user).code == code


def test_too_late_after_24_hours(code):
    joined = timezone.now()
    on_time, late = UserFactory(date_joined=joined), UserFactory(date_joined=joined)

    with time_machine.travel(joined + timedelta(hours=24, seconds=30), tick=False):
        _assert_refused(late, code.code, Conflict, "too_late")
    with time_machine.travel(joined + timedelta(hours=23, minutes=59), tick=False):
        assert services.referral_apply(user=on_time, code=code.code, source="api")
    assert not Referral.objects.filter(referred=late).exists()


def test_unknown_source_is_refused(user, code):
    _assert_refused(user, code.code, ValidationError, "invalid_source", source="email")


def test_refusal_messages_are_translated(user, code):
    from django.utils import translation

    with translation.override("ru"):
        exc = _assert_refused(user, "ZZZZ9999", ValidationError, "code_not_found")
    assert exc.message == "Реферальный код не найден."


def test_miniapp_first_sign_in_with_start_param_records_the_referral(code):
    """The Mini App / bot sign-in creates the user and applies ``ref_<code>`` (source miniapp)."""
    from portal.services import telegram_user_get_or_create

    user, created = telegram_user_get_or_create(
        telegram_user={"id": 777000111, "first_name": "Пётр"}, start_param=f"ref_{code.code.lower()}"
    )

    assert created
    referral = Referral.objects.get(referred=user)
    assert referral.referrer == code.user
    assert referral.source == "miniapp"


def test_miniapp_sign_in_with_a_bad_code_still_creates_the_user(code):
    from portal.services import telegram_user_get_or_create

    user, created = telegram_user_get_or_create(telegram_user={"id": 777000112}, start_param="ref_NOPE2345")

    assert created and user.pk
    assert not Referral.objects.filter(referred=user).exists()


def test_bot_start_ref_records_the_referral(code):
    """What the bot does on ``/start ref_<code>``: get the Telegram user, then apply with source bot."""
    from portal.services import telegram_user_get_or_create

    user, _created = telegram_user_get_or_create(telegram_user={"id": 777000113, "first_name": "Ира"})
    referral = services.referral_apply(user=user, code=code.code, source="bot")

    assert referral.source == "bot"
    assert Referral.objects.get(referred=user).referrer == code.user


def test_miniapp_signed_launch_with_start_param_records_the_referral(api_client, code, settings):
    """Through the real Mini App authentication: signed initData carrying ``start_param=ref_<code>``."""
    from portal.tests.miniapp_signing import BOT_TOKEN, telegram_init_data

    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    init_data = telegram_init_data(user={"id": 880001, "first_name": "Лев"}, start_param=f"ref_{code.code}")

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {init_data}")

    assert response.status_code == 200, response.content
    referral = Referral.objects.get(referrer=code.user)
    assert referral.source == "miniapp"
    assert referral.referred.first_name == "Лев"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_applies_for_one_user_record_one_referral():
    newcomer = UserFactory()
    codes = [ReferralCodeFactory() for _ in range(4)]

    results = run_at_once(
        lambda code_text: services.referral_apply(user=newcomer, code=code_text, source="api"),
        [(code.code,) for code in codes],
    )

    outcomes = ["ok" if exc is None else getattr(exc, "code", repr(exc)) for exc in results]
    assert sorted(outcomes) == ["already_referred"] * 3 + ["ok"]
    assert Referral.objects.filter(referred=newcomer).count() == 1
