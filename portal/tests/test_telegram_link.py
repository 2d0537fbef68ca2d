from datetime import timedelta

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from portal import errors
from portal.models import TelegramLinkToken
from portal.services import (
    telegram_link_consume,
    telegram_link_create,
    telegram_user_get_or_create,
    user_block,
    vk_user_get_or_create,
)

pytestmark = pytest.mark.django_db

TG_USER = {"id": 555000, "first_name": "Иван", "username": "ivan"}


def test_create_returns_token_deep_link_and_expiry(user, settings):
    settings.TELEGRAM_BOT_USERNAME = "citydesk_test_bot"

    token, deep_link, expires_at = telegram_link_create(user=user)

    assert deep_link == f"https://t.me/citydesk_test_bot?start=link_{token}"
    assert len(f"link_{token}") <= 64
    assert timedelta(minutes=9) < expires_at - timezone.now() <= timedelta(minutes=10)
    # only a digest is stored
    assert not TelegramLinkToken.objects.filter(token_hash=token).exists()


def test_consume_links_the_identity_once(user):
    token, _link, _exp = telegram_link_create(user=user)

    assert telegram_link_consume(token=f"link_{token}", telegram_user=TG_USER) == user
    assert SocialAccount.objects.get(provider="telegram", uid="555000").user == user
    # later sign-ins with that identity (Mini App, bot) find the same user
    assert telegram_user_get_or_create(telegram_user=TG_USER) == (user, False)

    with pytest.raises(errors.Conflict) as exc:
        telegram_link_consume(token=token, telegram_user=TG_USER)
    assert exc.value.code == "link_token_used"


def test_expired_token_is_refused_and_nothing_linked(user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token, _link, _exp = telegram_link_create(user=user)
        traveller.shift(timedelta(minutes=10, seconds=1))

        with pytest.raises(errors.ValidationError) as exc:
            telegram_link_consume(token=token, telegram_user=TG_USER)

    assert exc.value.code == "link_token_expired"
    assert not SocialAccount.objects.exists()


def test_token_still_valid_just_before_expiry(user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token, _link, _exp = telegram_link_create(user=user)
        traveller.shift(timedelta(minutes=9, seconds=59))

        assert telegram_link_consume(token=token, telegram_user=TG_USER) == user


@pytest.mark.parametrize("token", ["", "nope", "link_", "link_unknown-token"])
def test_unknown_token_is_refused(user, token):
    with pytest.raises(errors.ValidationError) as exc:
        telegram_link_consume(token=token, telegram_user=TG_USER)
    assert exc.value.code == "link_token_invalid"


def test_identity_of_another_user_is_refused(user, other_user):
    telegram_link_consume(token=telegram_link_create(user=other_user)[0], telegram_user=TG_USER)
    token, _link, _exp = telegram_link_create(user=user)

    with pytest.raises(errors.Conflict) as exc:
        telegram_link_consume(token=token, telegram_user=TG_USER)

    assert exc.value.code == "telegram_already_linked"
    assert SocialAccount.objects.get(uid="555000").user == other_user
    assert TelegramLinkToken.objects.get(user=user).used_at is None  # the token stays usable


def test_user_already_linked_to_another_telegram_is_refused(user):
    telegram_link_consume(token=telegram_link_create(user=user)[0], telegram_user=TG_USER)

    with pytest.raises(errors.Conflict) as exc:
        telegram_link_consume(token=telegram_link_create(user=user)[0], telegram_user={"id": 1, "first_name": "X"})
    assert exc.value.code == "user_has_other_telegram"


def test_blocked_user_cannot_link(user, staff_user):
    token, _link, _exp = telegram_link_create(user=user)
    user_block(user=user, reason="spam", by=staff_user)

    with pytest.raises(errors.UserBlocked):
        telegram_link_consume(token=token, telegram_user=TG_USER)


def test_bad_telegram_user_is_refused(user):
    token, _link, _exp = telegram_link_create(user=user)

    with pytest.raises(errors.ValidationError):
        telegram_link_consume(token=token, telegram_user={"first_name": "no id"})


def test_api_returns_a_link(user_api, user):
    response = user_api.post("/api/v1/me/telegram-link/")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "deep_link", "expires_at"}
    assert body["deep_link"].endswith(f"?start=link_{body['token']}")
    assert telegram_link_consume(token=body["token"], telegram_user=TG_USER) == user


def test_api_link_needs_login(api_client):
    assert api_client.post("/api/v1/me/telegram-link/").status_code == 401


def test_profile_page_shows_the_deep_link(client, user):
    client.force_login(user)

    response = client.post("/profile/telegram-link/", follow=True)

    assert "https://t.me/" in response.content.decode()
    assert TelegramLinkToken.objects.filter(user=user).count() == 1


def test_get_or_create_services_for_bots():
    user, created = telegram_user_get_or_create(telegram_user={"id": "77", "first_name": "Бот"})
    assert created and user.first_name == "Бот" and user.email is None
    assert telegram_user_get_or_create(telegram_user={"id": 77}) == (user, False)

    vk_user, created = vk_user_get_or_create(vk_user_id="123", first_name="Вера")
    assert created and vk_user.first_name == "Вера"
    assert vk_user_get_or_create(vk_user_id=123) == (vk_user, False)

    with pytest.raises(errors.ValidationError):
        vk_user_get_or_create(vk_user_id="abc")
