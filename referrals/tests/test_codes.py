from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.errors import Conflict, NotFound, ValidationError
from portal.tests.factories import UserFactory
from referrals import services
from referrals.models import CODE_ALPHABET, ReferralCode
from referrals.tests.concurrency import run_at_once
from referrals.tests.factories import ReferralCodeFactory

pytestmark = pytest.mark.django_db


def test_create_makes_a_short_unambiguous_upper_case_code(user, settings):
    code = services.referral_code_create(user=user, days=10)

    assert len(code.code) == 8
    assert set(code.code) <= set(CODE_ALPHABET)
    assert not set(code.code) & set("0O1IL")
    assert code.is_active
    assert abs(code.expires_at - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)


def test_create_uses_default_lifetime(user, settings):
    settings.REFERRAL_CODE_DEFAULT_DAYS = 7
    code = services.referral_code_create(user=user)
    assert abs(code.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


@pytest.mark.parametrize("days", [0, 366, -5, "abc"])
def test_create_refuses_lifetime_outside_limits(user, days):
    with pytest.raises(ValidationError) as exc:
        services.referral_code_create(user=user, days=days)
    assert exc.value.code == "invalid_lifetime"
    assert not ReferralCode.objects.exists()


def test_creating_a_new_code_deactivates_the_previous_one(user):
    first = services.referral_code_create(user=user)
    second = services.referral_code_create(user=user)

    first.refresh_from_db()
    assert not first.is_active
    assert second.is_active
    assert ReferralCode.objects.filter(user=user, is_active=True).count() == 1


def test_activate_switches_the_active_code(user):
    first = services.referral_code_create(user=user)
    second = services.referral_code_create(user=user)

    services.referral_code_activate(user=user, code_id=first.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_active and not second.is_active


def test_deactivate_and_delete(user):
    code = services.referral_code_create(user=user)
    services.referral_code_deactivate(user=user, code_id=code.pk)
    code.refresh_from_db()
    assert not code.is_active

    services.referral_code_delete(user=user, code_id=code.pk)
    assert not ReferralCode.objects.filter(pk=code.pk).exists()


@pytest.mark.parametrize("action", ["activate", "deactivate", "delete"])
def test_another_users_code_is_not_found(user, other_user, action):
    code = ReferralCodeFactory(user=other_user, is_active=False)
    with pytest.raises(NotFound):
        getattr(services, f"referral_code_{action}")(user=user, code_id=code.pk)
    code.refresh_from_db()
    assert code.is_active is False


def test_too_many_codes_is_refused(user, monkeypatch):
    monkeypatch.setattr(services, "MAX_CODES_PER_USER", 2)
    services.referral_code_create(user=user)
    services.referral_code_create(user=user)
    with pytest.raises(Conflict) as exc:
        services.referral_code_create(user=user)
    assert exc.value.code == "too_many_codes"
    assert ReferralCode.objects.filter(user=user).count() == 2


def test_database_allows_one_active_code_per_user(user):
    ReferralCodeFactory(user=user, is_active=True)
    ReferralCodeFactory(user=user, is_active=False)  # inactive ones are fine
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralCodeFactory(user=user, is_active=True)


def test_codes_are_unique_case_insensitively(user, other_user):
    ReferralCodeFactory(user=user, code="ABCDEFGH")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralCodeFactory(user=other_user, code="ABCDEFGH", is_active=False)
    # Lower-case storage is refused by the database, so codes stay comparable.
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralCodeFactory(user=other_user, code="abcdefgz", is_active=False)


def test_expired_codes_count_as_inactive():
    with time_machine.travel("2026-03-01 12:00:00+03:00", tick=False):
        user = UserFactory()
        code = services.referral_code_create(user=user, days=2)
        assert ReferralCode.objects.usable().filter(pk=code.pk).exists()
        assert code.is_usable

    with time_machine.travel("2026-03-03 11:59:00+03:00", tick=False):
        assert ReferralCode.objects.usable().filter(pk=code.pk).exists()

    with time_machine.travel("2026-03-03 12:00:01+03:00", tick=False):
        code.refresh_from_db()
        assert not ReferralCode.objects.usable().filter(pk=code.pk).exists()
        assert code.is_expired and not code.is_usable
        services.referral_code_deactivate(user=user, code_id=code.pk)
        with pytest.raises(ValidationError) as exc:
            services.referral_code_activate(user=user, code_id=code.pk)
        assert exc.value.code == "code_expired"
        code.refresh_from_db()
        assert not code.is_active


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_activation_leaves_exactly_one_active_code():
    user = UserFactory()
    codes = [ReferralCodeFactory(user=user, is_active=False) for _ in range(6)]

    results = run_at_once(
        lambda code_id: services.referral_code_activate(user=user, code_id=code_id), [(code.pk,) for code in codes]
    )

    errors = [exc for exc in results if exc is not None]
    assert errors == []
    assert ReferralCode.objects.filter(user=user, is_active=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_leaves_exactly_one_active_code():
    user = UserFactory()

    results = run_at_once(lambda: services.referral_code_create(user=user), [()] * 5)

    errors = [exc for exc in results if exc is not None]
    assert errors == []
    assert ReferralCode.objects.filter(user=user).count() == 5
    assert ReferralCode.objects.filter(user=user, is_active=True).count() == 1


def test_demo_seed_is_idempotent():
    import io

    from referrals import demo
    from referrals.models import Referral

    users = [UserFactory() for _ in range(3)]
    first = demo.seed(io.StringIO(), {"users": users})
    demo.seed(io.StringIO(), {"users": users})

    assert first["referral_code"].is_usable
    assert ReferralCode.objects.count() == 1
    assert Referral.objects.filter(referrer=users[0]).count() == 2
