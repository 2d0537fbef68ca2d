"""The Mini App's webview sign-in: the session endpoint's announcement, start parameters and their
pages, the share links, and what the page gives the Mini App script."""

import json

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from bookings.tests.factories import BookingFactory
from catalog.models import Organization
from catalog.tests.factories import OrganizationFactory
from portal.miniapp_start import miniapp_share_links, start_param_url
from portal.signals import platform_user_signed_in
from portal.tests.factories import UserFactory
from portal.tests.miniapp_signing import BOT_TOKEN, VK_SECRET, telegram_init_data, vk_launch_params
from referrals.models import Referral
from referrals.tests.factories import ReferralCodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _miniapp_settings(settings):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.VK_APP_SECRET = VK_SECRET
    settings.MINIAPP_AUTH_MAX_AGE = 86400


@pytest.fixture
def announcements():
    """Every platform_user_signed_in sent during the test."""
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    platform_user_signed_in.connect(receiver, dispatch_uid="test.announcements")
    yield received
    platform_user_signed_in.disconnect(dispatch_uid="test.announcements")


def sign_in(client, header: str, body: dict | None = None):
    return client.post(
        "/api/v1/auth/miniapp/",
        data=json.dumps(body or {}),
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
    )


# --- the session endpoint announces every sign-in -------------------------------------------


def test_every_telegram_session_sign_in_is_announced_with_the_identity(client, announcements):
    header = f"tma {telegram_init_data(user={'id': 31337, 'first_name': 'Лена'}, start_param='org_5')}"

    assert sign_in(client, header).status_code == 200
    assert sign_in(client, header).status_code == 200

    user = SocialAccount.objects.get(provider="telegram", uid="31337").user
    first, second = announcements
    assert first == {"signal": platform_user_signed_in, "user": user, "provider": "telegram", "uid": "31337",
                     "created": True, "start_param": "org_5"}  # fmt: skip
    assert second["created"] is False and second["user"] == user


def test_telegram_signed_start_param_wins_over_the_body(client, announcements):
    header = f"tma {telegram_init_data(user={'id': 31338}, start_param='org_5')}"

    sign_in(client, header, {"start_param": "ref_ATTACKER"})

    assert announcements[0]["start_param"] == "org_5"


def test_vk_start_param_comes_from_the_body_and_garbage_is_ignored(client, announcements):
    header = f"vk {vk_launch_params(user_id=8080)}"

    sign_in(client, header, {"start_param": "booking_12"})
    sign_in(client, header, {"start_param": "org_1<script>"})

    assert [a["start_param"] for a in announcements] == ["booking_12", ""]
    assert [a["created"] for a in announcements] == [True, False]
    assert announcements[0]["provider"] == "vk" and announcements[0]["uid"] == "8080"


@pytest.mark.parametrize("body", [{"start_param": {"nested": 1}}, {"start_param": ["org_1"]}])
def test_a_start_param_that_is_not_a_string_is_a_400(client, body):
    response = sign_in(client, f"vk {vk_launch_params(user_id=8081)}", body)

    assert response.status_code == 400


def test_refused_launch_data_announces_nothing(client, announcements):
    forged = telegram_init_data(user={"id": 31339}).replace("31339", "31340")

    assert sign_in(client, f"tma {forged}").status_code == 401
    assert announcements == []


def test_a_new_vk_user_with_a_referral_start_param_joins_with_the_code(client):
    code = ReferralCodeFactory()

    sign_in(client, f"vk {vk_launch_params(user_id=8082)}", {"start_param": f"ref_{code.code}"})

    user = SocialAccount.objects.get(provider="vk", uid="8082").user
    assert Referral.objects.get(referred=user).referrer == code.user


def test_a_returning_vk_user_is_not_referred_by_a_later_start_param(client):
    sign_in(client, f"vk {vk_launch_params(user_id=8083)}")
    code = ReferralCodeFactory()

    sign_in(client, f"vk {vk_launch_params(user_id=8083)}", {"start_param": f"ref_{code.code}"})

    assert not Referral.objects.exists()


def test_a_new_telegram_user_is_referred_once_by_its_signed_start_param(client):
    code = ReferralCodeFactory()

    sign_in(client, f"tma {telegram_init_data(user={'id': 31341}, start_param=f'ref_{code.code}')}")

    assert Referral.objects.filter(referrer=code.user).count() == 1


# --- start parameters lead to pages ---------------------------------------------------------


def test_start_params_lead_to_the_registered_pages(client):
    visitor = UserFactory()
    organization = OrganizationFactory()
    booking = BookingFactory(user=visitor)
    client.force_login(visitor)

    assert start_param_url(start_param=f"org_{organization.pk}", user=visitor) == f"/catalog/{organization.pk}/"
    assert start_param_url(start_param=f"booking_{booking.pk}", user=visitor) == f"/bookings/{booking.pk}/"
    response = client.get("/miniapp/open/", {"start": f"org_{organization.pk}"})
    assert response.status_code == 302 and response["Location"] == f"/catalog/{organization.pk}/"


@pytest.mark.parametrize(
    "start_param", ["", "nope_1", "org_", "org_abc", "org_1/../../admin", "https://evil.example", "x" * 65]
)
def test_unknown_or_malformed_start_params_lead_home(client, start_param):
    response = client.get("/miniapp/open/", {"start": start_param})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_hidden_organizations_and_other_peoples_bookings_lead_home(client):
    hidden = OrganizationFactory(status=Organization.Status.HIDDEN)
    stranger_booking = BookingFactory()
    visitor = UserFactory()

    assert start_param_url(start_param=f"org_{hidden.pk}", user=visitor) == "/"
    assert start_param_url(start_param=f"booking_{stranger_booking.pk}", user=visitor) == "/"
    # the owner may open their hidden organization's page
    assert start_param_url(start_param=f"org_{hidden.pk}", user=hidden.owner) == f"/catalog/{hidden.pk}/"


def test_a_guest_with_a_booking_param_is_asked_to_log_in_there(client):
    booking = BookingFactory()

    response = client.get("/miniapp/open/", {"start": f"booking_{booking.pk}"}, follow=True)

    assert response.redirect_chain[0][0] == f"/bookings/{booking.pk}/"
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


def test_a_referral_param_sends_a_guest_to_signup_with_the_code_and_a_member_home(client, user):
    assert client.get("/miniapp/open/", {"start": "ref_abc234"})["Location"] == "/accounts/signup/?ref=ABC234"
    client.force_login(user)
    assert client.get("/miniapp/open/", {"start": "ref_ABC234"})["Location"] == "/"


def test_a_resolver_cannot_send_visitors_off_the_site(monkeypatch, user):
    from portal import miniapp_start

    monkeypatch.setitem(miniapp_start._resolvers, "evil_", lambda **kwargs: "//evil.example/")

    assert start_param_url(start_param="evil_1", user=user) == "/"


# --- share links ----------------------------------------------------------------------------


def test_share_links_follow_the_settings(settings):
    settings.TELEGRAM_BOT_USERNAME = "citydesk_bot"
    settings.TELEGRAM_MINIAPP_SHORT_NAME = "app"
    settings.VK_APP_ID = "51234567"

    assert miniapp_share_links(start_param="org_7") == {
        "telegram": "https://t.me/citydesk_bot/app?startapp=org_7",
        "vk": "https://vk.com/app51234567#org_7",
    }
    settings.TELEGRAM_MINIAPP_SHORT_NAME = ""
    settings.VK_APP_ID = ""
    assert miniapp_share_links(start_param="org_7") == {"telegram": "https://t.me/citydesk_bot?startapp=org_7"}
    assert miniapp_share_links(start_param="org 7") == {}


def test_the_organization_page_shares_itself_and_hides_unset_platforms(client, settings):
    settings.TELEGRAM_BOT_USERNAME = "citydesk_bot"
    settings.TELEGRAM_MINIAPP_SHORT_NAME = ""
    settings.VK_APP_ID = ""
    organization = OrganizationFactory()

    page = client.get(f"/catalog/{organization.pk}/").content.decode()

    assert f'value="https://t.me/citydesk_bot?startapp=org_{organization.pk}"' in page
    assert "vk.com/app" not in page
    settings.VK_APP_ID = "51234567"
    page = client.get(f"/catalog/{organization.pk}/").content.decode()
    assert f'value="https://vk.com/app51234567#org_{organization.pk}"' in page


# --- the page hands the script its configuration --------------------------------------------


def test_every_page_carries_the_mini_app_script_and_its_configuration(client, settings):
    settings.VK_GROUP_ID = "77"

    response = client.get("/")

    page = response.content.decode()
    assert '<script src="/static/js/miniapp.js" defer></script>' in page
    config = json.loads(page.split('<script id="miniapp-config" type="application/json">', 1)[1].split("</script>")[0])
    assert config["authUrl"] == "/api/v1/auth/miniapp/"
    assert config["openUrl"] == "/miniapp/open/"
    assert config["vkGroupId"] == 77
    assert config["authenticated"] is False
    assert config["vkBridgeUrl"] == "/static/vendor/vk-bridge/browser.min.js"
    assert "Не удалось войти через %(platform)s" in config["messages"]["signInFailed"]
