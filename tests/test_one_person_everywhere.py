"""One person on the site, in the Telegram Mini App and in the VK Mini App is one account, and
their notifications follow the channel they use: Telegram, then VK, then email.

Everything the person does goes through the front doors a person uses: the site's signup and
email pages, the Mini App sign-in (POST /api/v1/auth/miniapp/ with signed launch data), the
Telegram webhook, the VK Callback API, the booking API and the reminder task. Only the
surroundings (a barbershop, its hours) come from factories. Connecting VK on the site is
allauth's OAuth round trip to VK, which cannot run here: it is entered at allauth's
``SocialLogin.connect``, the step that saves the account and sends ``social_account_added``.
"""

import json
from datetime import datetime, time, timedelta

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from bookings.models import Booking
from bookings.tasks import send_booking_reminders
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from mailings.models import BotSubscriber, Notification
from mailings.services import notify
from mailings.testing.telegram_updates import message_update, post_update
from portal.models import User
from portal.tests.emails import confirmation_path, site_signup
from portal.tests.miniapp_signing import BOT_TOKEN, VK_SECRET, telegram_init_data, vk_launch_params

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "webhook-secret"
TG_ID = 5001
VK_ID = 494075
PASSWORD = "Very-long-passw0rd!"


@pytest.fixture
def platforms(settings, fake_telegram, fake_vk):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.VK_APP_SECRET = VK_SECRET
    settings.VK_APP_ID = "51234567"
    settings.VK_CALLBACK_SECRET = "vk-secret"
    settings.VK_CONFIRMATION_CODE = "abc123"
    settings.MINIAPP_AUTH_MAX_AGE = 86400
    settings.SITE_URL = "https://citydesk.example"
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "vk": {"APP": {"client_id": "51234567", "secret": "vk-oauth-secret"}},
    }
    return {"telegram": fake_telegram, "vk": fake_vk}


@pytest.fixture
def barbershop(db):
    city = CityFactory(name="Москва", slug="moscow", timezone="Europe/Moscow")
    organization = OrganizationFactory(city=city, name="Борода и Ко")
    open_every_day(organization, time(9), time(21))
    resource = ResourceFactory(organization=organization, name="Кресло 1", kind="specialist")
    service = ServiceFactory(organization=organization, name="Стрижка", duration_minutes=60)
    return resource, service


# --- the front doors ----------------------------------------------------------------------------


def miniapp(client, header: str, start_param: str = ""):
    """Open the Mini App: the page's script exchanges the launch data for a session."""
    response = client.post(
        "/api/v1/auth/miniapp/",
        data=json.dumps({"start_param": start_param}),
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
    )
    assert response.status_code == 200, response.content
    return User.objects.get(pk=response.json()["id"])


def telegram_miniapp(client):
    return miniapp(client, f"tma {telegram_init_data(user={'id': TG_ID, 'first_name': 'Анна'})}")


def vk_miniapp(client, start_param=""):
    return miniapp(client, f"vk {vk_launch_params(user_id=VK_ID)}", start_param)


def telegram_bot(client, text: str):
    user = {"id": TG_ID, "is_bot": False, "first_name": "Анна", "language_code": "ru"}
    assert post_update(client, message_update(text, user=user), secret=WEBHOOK_SECRET).status_code == 200


def vk_callback(client, kind: str, **obj):
    event = {"type": kind, "group_id": 77, "secret": "vk-secret", "object": obj}
    response = client.post("/vk/callback/", data=json.dumps(event), content_type="application/json")
    assert response.status_code == 200 and response.content == b"ok"


def vk_writes(client):
    vk_callback(client, "message_new", message={"id": 1, "date": 1, "from_id": VK_ID, "peer_id": VK_ID, "text": "Hi"})


def add_email(client, email: str) -> None:
    """Add an email on the account's email page and follow the confirmation link."""
    mail.outbox.clear()
    response = client.post("/accounts/email/", {"action_add": "", "email": email})
    assert response.status_code == 302, response.content
    assert client.post(confirmation_path(mail.outbox[0])).status_code == 302


def link_telegram(client, bot_client):
    """The profile's "link Telegram": a one-time deep link, opened in Telegram (/start link_<token>)."""
    response = client.post("/api/v1/me/telegram-link/")
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    telegram_bot(bot_client, f"/start link_{token}")


def connect_vk(user):
    """allauth's "connect VK" after VK's OAuth answer."""
    sociallogin = SocialLogin(account=SocialAccount(provider="vk", uid=str(VK_ID), extra_data={}), user=user)
    request = RequestFactory().get("/accounts/vk/login/callback/")
    request.user = user
    sociallogin.connect(request, user)


_keys = iter(range(1, 10**6))


def channel_of_next_notification(user, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            user=user,
            kind="booking_cancelled",
            context={"organization": "Борода и Ко", "resource": "Кресло 1", "starts_local": "завтра", "url": "/"},
            dedupe_key=f"one-person:{next(_keys)}",
        )
    assert notification is not None
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT, notification.error
    return notification.channel


def assert_channels_follow_use(client, user, capture):
    """Telegram while its chat is open, then VK, then email."""
    assert channel_of_next_notification(user, capture) == "telegram"
    telegram_bot(client, "/stop")
    assert channel_of_next_notification(user, capture) == "vk"
    vk_callback(client, "message_deny", user_id=VK_ID)
    assert channel_of_next_notification(user, capture) == "email"


# --- three orders -------------------------------------------------------------------------------


def test_email_then_telegram_then_vk_is_one_person(platforms, django_capture_on_commit_callbacks):
    site = site_signup("anna@example.com", PASSWORD)
    person = User.objects.get(email="anna@example.com")
    assert channel_of_next_notification(person, django_capture_on_commit_callbacks) == "email"

    link_telegram(site, Client())
    assert telegram_miniapp(Client()) == person
    assert channel_of_next_notification(person, django_capture_on_commit_callbacks) == "telegram"

    connect_vk(person)
    vk_callback(Client(), "message_allow", user_id=VK_ID)
    assert vk_miniapp(Client()) == person

    assert User.objects.count() == 1
    assert_channels_follow_use(Client(), person, django_capture_on_commit_callbacks)


def test_telegram_then_vk_then_email_is_one_person(platforms, django_capture_on_commit_callbacks):
    webview = Client()
    person = telegram_miniapp(webview)
    telegram_bot(Client(), "/start")
    assert channel_of_next_notification(person, django_capture_on_commit_callbacks) == "telegram"

    connect_vk(person)
    vk_writes(Client())
    assert vk_miniapp(Client()) == person

    add_email(webview, "anna@example.com")
    person.refresh_from_db()
    assert person.email == "anna@example.com"

    assert User.objects.count() == 1
    assert_channels_follow_use(Client(), person, django_capture_on_commit_callbacks)


def test_vk_then_telegram_then_email_is_one_person(platforms, django_capture_on_commit_callbacks):
    vk_writes(Client())  # the community chat first, the Mini App later
    webview = Client()
    person = vk_miniapp(webview)
    assert channel_of_next_notification(person, django_capture_on_commit_callbacks) == "vk"

    link_telegram(webview, Client())
    assert telegram_miniapp(Client()) == person
    assert channel_of_next_notification(person, django_capture_on_commit_callbacks) == "telegram"

    add_email(webview, "anna@example.com")

    assert User.objects.count() == 1
    assert_channels_follow_use(Client(), person, django_capture_on_commit_callbacks)


# --- a VK Mini App user nobody set up gets the reminder in VK -----------------------------------


def book_tomorrow_at_ten(client, header, resource, service) -> Booking:
    zone = resource.organization.city.tzinfo
    day = timezone.localtime(timezone.now(), zone).date() + timedelta(days=1)
    starts_at = timezone.make_aware(datetime.combine(day, time(10)), zone)
    response = client.post(
        "/api/v1/bookings/",
        data=json.dumps({"resource": resource.pk, "service": service.pk, "starts_at": starts_at.isoformat()}),
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
    )
    assert response.status_code == 201, response.content
    return Booking.objects.get(pk=response.json()["id"])


def reminder_an_hour_before(booking, django_capture_on_commit_callbacks):
    an_hour_before = time_machine.travel(booking.starts_at - timedelta(minutes=59), tick=False)
    with an_hour_before, django_capture_on_commit_callbacks(execute=True):
        assert send_booking_reminders() == 1


def vk_messages(fake_vk, peer):
    return [call for call in fake_vk.send_calls() if str(peer) in call["peer_ids"].split(",")]


def open_app_hash(call) -> str:
    [[button]] = json.loads(call["keyboard"])["buttons"]
    assert button["action"]["type"] == "open_app" and button["action"]["app_id"] == 51234567
    return button["action"]["hash"]


@pytest.mark.parametrize("writes_first", [False, True], ids=["signs-in-first", "writes-first"])
def test_a_vk_mini_app_user_gets_the_booking_and_its_reminder_in_vk(
    platforms, barbershop, django_capture_on_commit_callbacks, writes_first
):
    resource, service = barbershop
    header = f"vk {vk_launch_params(user_id=VK_ID)}"
    if writes_first:
        vk_writes(Client())
        vk_miniapp(Client(), start_param=f"org_{resource.organization_id}")
    else:
        vk_miniapp(Client(), start_param=f"org_{resource.organization_id}")
        # the Mini App's VKWebAppAllowMessagesFromGroup after the first booking ends in message_allow
        vk_callback(Client(), "message_allow", user_id=VK_ID, key="")

    with django_capture_on_commit_callbacks(execute=True):
        booking = book_tomorrow_at_ten(Client(), header, resource, service)
    reminder_an_hour_before(booking, django_capture_on_commit_callbacks)

    person = SocialAccount.objects.get(provider="vk", uid=str(VK_ID)).user
    assert booking.user == person
    assert BotSubscriber.objects.get(channel="vk", chat_id=str(VK_ID)).user == person
    confirmation, reminder = vk_messages(platforms["vk"], VK_ID)[-2:]
    assert confirmation["message"].startswith("Бронирование подтверждено: «Борода и Ко»")
    assert reminder["message"].startswith("Ждём вас: «Борода и Ко»")
    assert open_app_hash(confirmation) == open_app_hash(reminder) == f"booking_{booking.pk}"
    assert set(Notification.objects.filter(user=person).values_list("channel", flat=True)) == {"vk"}
