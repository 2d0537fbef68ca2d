"""Account deletion end to end: a person builds up an account through the product's front doors
(signup, API, Mini App, bot, payment callback), deletes it, and every app lets go of it.

Only the surroundings are set up directly (a city, a category, someone else's coworking, a
plan, a friend); everything the deleted user owns is created the way a person creates it.
"""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.files.storage import default_storage
from django.db.models import Sum
from django.test import Client
from rest_framework.test import APIClient

from billing.models import Balance, LedgerEntry, Payment, Subscription
from billing.tests.helpers import robokassa_test_shop
from bookings.models import Booking, BookingParticipant
from bookings.tests.clock import NOW, at
from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.models import Organization
from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory
from mailings.models import BotSubscriber, Notification
from mailings.testing.telegram_updates import message_update, post_update
from portal.models import TelegramLinkToken, User
from portal.tests.emails import site_signup
from portal.tests.factories import UserFactory
from portal.tests.images import image_bytes, upload
from portal.tests.miniapp_signing import telegram_init_data
from referrals.models import ReferralCode
from support.models import Ticket

pytestmark = pytest.mark.django_db

EMAIL = "anna@example.com"
PASSWORD = "Sup3r-secret!"
TG_USER = {"id": 5001, "is_bot": False, "first_name": "Анна", "username": "anna_tg", "language_code": "ru"}
WEBHOOK_SECRET = "s3cret-webhook"


@pytest.fixture
def world(settings, fake_telegram):
    """What exists around the user: a city, a category, a friend's coworking, a plan, payment settings."""
    from billing.tests.factories import PlanFactory

    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    robokassa_test_shop(settings)
    settings.BOOKING_CANCEL_DEADLINE_HOURS = 24
    with time_machine.travel(NOW, tick=False) as clock:
        city = CityFactory()
        friend = UserFactory(email="friend@example.com", first_name="Борис")
        coworking = OrganizationFactory(owner=UserFactory(), city=city, name="Коворкинг")
        open_every_day(coworking)
        yield {
            "clock": clock,
            "city": city,
            "category": CategoryFactory(),
            "friend": friend,
            "seat": ResourceFactory(organization=coworking, name="Место у окна"),
            "room": ResourceFactory(organization=coworking, name="Переговорная"),
            "plan": PlanFactory(price=Decimal("990.00")),
            "bot": fake_telegram,
        }


def _signup(client: APIClient, email=EMAIL) -> User:
    """Sign up on the site and follow the emailed confirmation link (which logs ``client`` in)."""
    site = site_signup(email, PASSWORD)  # the HTML forms, as a browser posts them
    client.cookies = site.cookies
    return User.objects.get(email=email)


def _bot_start(client, text: str) -> None:
    response = post_update(client, message_update(text, user=TG_USER, update_id=1), secret=WEBHOOK_SECRET)
    assert response.status_code == 200


def _robokassa_pays(client, invoice_id: int, amount: str) -> None:
    out_sum = f"{Decimal(amount):.6f}"
    signature = hashlib.md5(f"{out_sum}:{invoice_id}:pass-two".encode()).hexdigest()  # noqa: S324 - Robokassa's md5
    response = client.post(
        "/billing/robokassa/result/", {"OutSum": out_sum, "InvId": invoice_id, "SignatureValue": signature}
    )
    assert response.status_code == 200, response.content


def _tma(settings) -> str:
    return f"tma {telegram_init_data(user=TG_USER, bot_token=settings.TELEGRAM_BOT_TOKEN)}"


def _ledger(user_id: int) -> list[tuple]:
    return list(LedgerEntry.objects.filter(user_id=user_id).order_by("pk").values_list("pk", "kind", "amount"))


def _build_up_an_account(world, settings) -> dict:
    """Anna signs up and uses everything; returns what she made."""
    anna = APIClient()
    user = _signup(anna)

    # profile and avatar
    assert anna.patch("/api/v1/me/", {"first_name": "Анна", "last_name": "Смирнова", "phone": "8 912 000-11-22",
                                      "city": world["city"].pk}, format="json").status_code == 200  # fmt: skip
    response = anna.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes("PNG"), "me.png")}, format="multipart")
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    avatar_files = [user.avatar.name, user.avatar_thumbnail.name]
    assert all(name and default_storage.exists(name) for name in avatar_files)

    # Telegram: the deep link from the profile, opened in the bot
    token = anna.post("/api/v1/me/telegram-link/").json()["token"]
    _bot_start(APIClient(), f"/start link_{token}")
    assert BotSubscriber.objects.get(chat_id=str(TG_USER["id"])).user_id == user.pk
    assert TelegramLinkToken.objects.filter(user=user).exists()
    # …and the Mini App then signs her in as the same person
    mini_app = APIClient()
    assert mini_app.get("/api/v1/me/", HTTP_AUTHORIZATION=_tma(settings)).json()["id"] == user.pk

    # a referral code, money, an organization with a paid listing
    code = anna.post("/api/v1/referrals/codes/", {}, format="json").json()["code"]
    invoice = anna.post("/api/v1/billing/topups/", {"amount": "2000.00"}, format="json").json()["invoice_id"]
    _robokassa_pays(Client(), invoice, "2000.00")
    org = anna.post("/api/v1/organizations/", {
        "name": "Студия Анны", "city": world["city"].pk, "categories": [world["category"].pk],
        "description": "Стрижки", "address": "ул. Мира, 5", "phone": "+7 912 000-11-22"}, format="json").json()  # fmt: skip
    assert anna.post(f"/api/v1/organizations/{org['id']}/publish/").status_code == 200
    response = anna.post("/api/v1/billing/subscriptions/", {"organization": org["id"], "plan": world["plan"].pk},
                         format="json")  # fmt: skip
    assert response.status_code == 201, response.content

    # bookings: tomorrow's (past at deletion time) and next week's, to which she invites her friend
    def book(client, resource, starts_at):
        response = client.post("/api/v1/bookings/", {"resource": resource.pk, "starts_at": starts_at.isoformat(),
                                                      "ends_at": (starts_at + timedelta(hours=1)).isoformat()},
                               format="json")  # fmt: skip
        assert response.status_code == 201, response.content
        return response.json()["id"]

    past_booking = book(anna, world["seat"], at(10))
    future_booking = book(anna, world["seat"], at(10, day=9))
    invited = anna.post(f"/api/v1/bookings/{future_booking}/participants/", {"email": world["friend"].email},
                        format="json")  # fmt: skip
    assert invited.status_code == 202, invited.content
    # her friend accepts, then books the meeting room and invites her, and she accepts
    friend = APIClient()
    friend.force_login(world["friend"])
    assert friend.post(f"/api/v1/bookings/{future_booking}/accept/").status_code == 200
    friends_booking = book(friend, world["room"], at(15, day=10))
    assert friend.post(f"/api/v1/bookings/{friends_booking}/participants/", {"email": EMAIL},
                       format="json").status_code == 202  # fmt: skip
    assert anna.post(f"/api/v1/bookings/{friends_booking}/accept/").status_code == 200

    ticket = anna.post("/api/v1/tickets/", {"subject": "Вопрос про оплату", "text": "Меня зовут Анна Смирнова"},
                       format="json").json()["id"]  # fmt: skip
    return {
        "user": user,
        "client": anna,
        "avatar_files": avatar_files,
        "code": code,
        "org": org["id"],
        "past_booking": past_booking,
        "future_booking": future_booking,
        "friends_booking": friends_booking,
        "ticket": ticket,
    }


def test_deleting_an_account_from_the_mini_app_erases_the_person_and_keeps_the_accounting(
    world, settings, django_capture_on_commit_callbacks
):
    made = _build_up_an_account(world, settings)
    user = made["user"]
    other_device = Client()
    assert other_device.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD}).status_code == 302
    assert other_device.get("/api/v1/me/").status_code == 200
    friend_before = User.objects.values().get(pk=world["friend"].pk)
    friend_emails = list(EmailAddress.objects.filter(user=world["friend"]).values())
    ledger_before = _ledger(user.pk)
    balance_before = Balance.objects.get(user=user).amount
    assert balance_before == Decimal("2000.00") - Decimal("990.00")
    public = APIClient().get("/api/v1/organizations/").json()["results"]
    assert made["org"] in [o["id"] for o in public]

    # when, two days later, she deletes her account from the Mini App
    world["clock"].shift(timedelta(days=2))
    mini_app = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = mini_app.delete("/api/v1/me/", HTTP_AUTHORIZATION=_tma(settings))
    assert response.status_code == 204, response.content

    # then the person is gone from the row…
    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert (user.first_name, user.last_name, user.phone, user.city_id) == ("", "", "", None)
    assert not user.avatar and not user.avatar_thumbnail
    assert not any(default_storage.exists(name) for name in made["avatar_files"])
    assert not user.is_active and not user.has_usable_password()
    # …and from the identities that lead to it
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not TelegramLinkToken.objects.filter(user=user).exists()
    chat = BotSubscriber.objects.get(chat_id=str(TG_USER["id"]))
    assert chat.user is None and not chat.is_active and chat.username == "" and chat.first_name == ""

    # every session ended
    assert made["client"].get("/api/v1/me/").status_code == 401
    assert other_device.get("/api/v1/me/").status_code == 401

    # bookings: the future one cancelled (her friend told), the past one kept, her place in the friend's gone
    future = Booking.objects.get(pk=made["future_booking"])
    assert future.status == Booking.Status.CANCELLED and future.user_id == user.pk
    assert Notification.objects.filter(user=world["friend"], kind="booking_cancelled").count() == 1
    past = Booking.objects.get(pk=made["past_booking"])
    assert past.status == Booking.Status.CONFIRMED and past.user_id == user.pk
    assert not BookingParticipant.objects.filter(user=user).exists()
    assert Booking.objects.get(pk=made["friends_booking"]).status == Booking.Status.CONFIRMED

    # her organization left the catalog and will not be charged again
    assert Organization.objects.get(pk=made["org"]).status == Organization.Status.HIDDEN
    assert made["org"] not in [o["id"] for o in APIClient().get("/api/v1/organizations/").json()["results"]]
    subscription = Subscription.objects.get(organization_id=made["org"])
    assert subscription.status == Subscription.Status.CANCELLED and not subscription.auto_renew

    # her referral code works no more, and the lookup by her old email finds nothing
    assert not ReferralCode.objects.get(code=made["code"]).is_active
    assert APIClient().get("/api/v1/referrals/code/", {"email": EMAIL}).status_code == 404

    # the ticket is closed and what she wrote is erased
    ticket = Ticket.objects.get(pk=made["ticket"])
    assert ticket.status == Ticket.Status.CLOSED and "Анна" not in ticket.text

    # accounting is untouched and still adds up
    assert _ledger(user.pk) == ledger_before
    assert Balance.objects.get(user=user).amount == balance_before
    assert LedgerEntry.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] == balance_before
    assert Payment.objects.get(user=user).status == Payment.Status.PAID

    # a month later the renewal does not charge the deleted account
    from billing.tasks import renew_subscriptions

    world["clock"].shift(timedelta(days=40))
    renew_subscriptions()
    assert _ledger(user.pk) == ledger_before

    # nothing was sent to her after the deletion, and her friend is untouched
    assert not Notification.objects.filter(user=user, status=Notification.Status.PENDING).exists()
    assert User.objects.values().get(pk=world["friend"].pk) == friend_before
    assert list(EmailAddress.objects.filter(user=world["friend"]).values()) == friend_emails


def test_the_same_email_signs_up_again_as_a_new_user(world, settings):
    made = _build_up_an_account(world, settings)
    world["clock"].shift(timedelta(hours=1))  # past allauth's limit on confirmation emails per address
    assert made["client"].delete("/api/v1/me/").status_code == 204

    newcomer = _signup(APIClient())

    assert newcomer.pk != made["user"].pk
    assert EmailAddress.objects.get(email=EMAIL).user_id == newcomer.pk
    # a fresh account: nothing of the old one comes back
    assert not Booking.objects.filter(user=newcomer).exists()
    assert not Balance.objects.filter(user=newcomer, amount__gt=0).exists()
    # and the Telegram identity is a stranger again: the Mini App makes a new account for it
    again = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=_tma(settings)).json()
    assert again["id"] not in (made["user"].pk, newcomer.pk)
