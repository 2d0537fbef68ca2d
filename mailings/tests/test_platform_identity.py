"""A VK or Telegram identity and its bot chat are one person, in both orders.

Reached through the entry points a person uses: the Mini App session sign-in
(POST /api/v1/auth/miniapp/), the VK Callback API, the Telegram webhook and
allauth's account connection. Nobody's subscriber is built with ``user=`` here.
"""

import json

import pytest
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.test import RequestFactory

from mailings.models import BotSubscriber
from mailings.subscriber_identity import subscriber_link_platform_identity
from mailings.tests.test_bots import SECRET as TELEGRAM_SECRET
from mailings.tests.test_bots import message_update, post_update
from portal.tests.factories import UserFactory
from portal.tests.miniapp_signing import BOT_TOKEN, VK_SECRET, telegram_init_data, vk_launch_params

pytestmark = pytest.mark.django_db

VK_ID = 494075
TG_USER = {"id": 5001, "is_bot": False, "first_name": "Анна", "username": "anna", "language_code": "ru"}


@pytest.fixture(autouse=True)
def _platforms(settings, fake_telegram, fake_vk):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN  # the Mini App's initData and the bot share the token
    settings.TELEGRAM_WEBHOOK_SECRET = TELEGRAM_SECRET
    settings.VK_APP_SECRET = VK_SECRET
    settings.VK_CALLBACK_SECRET = "vk-secret"
    settings.VK_CONFIRMATION_CODE = "abc123"
    settings.MINIAPP_AUTH_MAX_AGE = 86400


def vk_event(client, kind, **obj):
    event = {"type": kind, "group_id": 77, "secret": "vk-secret", "object": obj}
    response = client.post("/vk/callback/", data=json.dumps(event), content_type="application/json")
    assert response.status_code == 200
    return response


def vk_writes(client, user_id=VK_ID, text="Привет, когда вы открыты?"):
    message = {"id": 3, "date": 1, "from_id": user_id, "peer_id": user_id, "text": text}
    return vk_event(client, "message_new", message=message)


def miniapp_sign_in(client, header):
    response = client.post("/api/v1/auth/miniapp/", content_type="application/json", HTTP_AUTHORIZATION=header)
    assert response.status_code == 200
    return response


def vk_user():
    return SocialAccount.objects.get(provider="vk", uid=str(VK_ID)).user


def vk_chat():
    return BotSubscriber.objects.get(channel="vk", chat_id=str(VK_ID))


# --- VK ---------------------------------------------------------------------------------------


def test_vk_mini_app_user_who_writes_later_gets_the_chat(client):
    miniapp_sign_in(client, f"vk {vk_launch_params(user_id=VK_ID)}")

    vk_writes(client)

    assert vk_chat().user == vk_user()


def test_vk_chat_that_wrote_first_is_linked_when_the_person_signs_in(client):
    vk_writes(client)
    assert vk_chat().user is None

    miniapp_sign_in(client, f"vk {vk_launch_params(user_id=VK_ID)}")

    assert vk_chat().user == vk_user()


def test_message_allow_links_and_reactivates(client):
    miniapp_sign_in(client, f"vk {vk_launch_params(user_id=VK_ID)}")
    vk_event(client, "message_allow", user_id=VK_ID)
    vk_event(client, "message_deny", user_id=VK_ID)
    assert not vk_chat().is_active

    vk_event(client, "message_allow", user_id=VK_ID, key="")

    chat = vk_chat()
    assert chat.is_active and chat.user == vk_user()


def test_a_denied_chat_is_linked_but_stays_off_when_the_person_signs_in(client):
    vk_event(client, "message_allow", user_id=VK_ID)
    vk_event(client, "message_deny", user_id=VK_ID)

    miniapp_sign_in(client, f"vk {vk_launch_params(user_id=VK_ID)}")

    chat = vk_chat()
    assert chat.user == vk_user() and not chat.is_active


def test_another_vk_persons_chat_is_left_alone(client):
    miniapp_sign_in(client, f"vk {vk_launch_params(user_id=VK_ID)}")

    vk_writes(client, user_id=VK_ID + 1)

    assert BotSubscriber.objects.get(channel="vk", chat_id=str(VK_ID + 1)).user is None


def test_vk_login_connected_on_the_site_links_the_chat_that_wrote_first(client, settings):
    """allauth's "connect VK" on the profile: the social_account_added signal."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "vk": {"APP": {"client_id": "51234567", "secret": "vk-oauth-secret"}},
    }
    vk_writes(client)
    person = UserFactory()
    sociallogin = SocialLogin(account=SocialAccount(provider="vk", uid=str(VK_ID), extra_data={}), user=person)
    request = RequestFactory().get("/accounts/vk/login/callback/")
    request.user = person

    sociallogin.connect(request, person)

    assert vk_chat().user == person


# --- Telegram ---------------------------------------------------------------------------------


def test_telegram_chat_started_first_is_linked_when_the_person_opens_the_mini_app(client):
    post_update(client, message_update("/start", user=TG_USER))
    assert BotSubscriber.objects.get(channel="telegram", chat_id="5001").user is None

    miniapp_sign_in(client, f"tma {telegram_init_data(user={'id': 5001, 'first_name': 'Анна'})}")

    user = SocialAccount.objects.get(provider="telegram", uid="5001").user
    assert BotSubscriber.objects.get(channel="telegram", chat_id="5001").user == user


def test_telegram_mini_app_user_who_starts_the_bot_later_gets_the_chat(client):
    miniapp_sign_in(client, f"tma {telegram_init_data(user={'id': 5001, 'first_name': 'Анна'})}")

    post_update(client, message_update("/start", user=TG_USER))

    user = SocialAccount.objects.get(provider="telegram", uid="5001").user
    assert BotSubscriber.objects.get(channel="telegram", chat_id="5001").user == user


# --- the rule itself --------------------------------------------------------------------------


def test_the_identity_decides_who_a_chat_belongs_to(user, other_user):
    chat = BotSubscriber.objects.create(channel="vk", chat_id="777", user=other_user)
    SocialAccount.objects.create(user=user, provider="vk", uid="777")

    assert subscriber_link_platform_identity(channel="vk", chat_id=777) == chat
    chat.refresh_from_db()
    assert chat.user == user


@pytest.mark.parametrize(
    ("channel", "chat_id"), [("vk", "-77"), ("vk", "2000000001x"), ("email", "777"), ("telegram", "0")]
)
def test_groups_communities_and_other_channels_are_not_people(user, channel, chat_id):
    SocialAccount.objects.create(user=user, provider="vk", uid="777")

    assert subscriber_link_platform_identity(channel=channel, chat_id=chat_id, user=user) is None


def test_nothing_to_link_until_both_sides_exist(user):
    assert subscriber_link_platform_identity(channel="vk", chat_id=888) is None  # no identity
    assert subscriber_link_platform_identity(channel="vk", chat_id=888, user=user) is None  # no chat


def test_vk_login_on_the_site_links_the_chat_that_wrote_first(client):
    """allauth's social login ends with its user_logged_in signal, carrying the sociallogin."""
    from allauth.account.signals import user_logged_in

    vk_writes(client)
    person = UserFactory()
    account = SocialAccount.objects.create(user=person, provider="vk", uid=str(VK_ID))

    user_logged_in.send(
        sender=type(person), request=None, response=None, user=person, sociallogin=SocialLogin(account=account)
    )

    assert vk_chat().user == person
