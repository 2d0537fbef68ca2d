"""One throttle policy for the API and the pages (portal/throttling.py).

The pages used to have no limits where their API twins had one (finding 7:
tickets, top-ups, avatar uploads), the invitation form had none at all
(finding 4), and a rotated ``X-Forwarded-For`` gave every request a fresh key
(finding 3). Each test here counts through the real entry points.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from billing.models import Payment
from catalog.models import Organization, OrganizationPhoto
from catalog.tests.factories import CityFactory, OrganizationFactory
from catalog.tests.images import image_upload
from portal.tests.images import image_bytes, upload
from portal.throttling import SCOPES, parse_rate, throttle_hit
from support.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 3, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def rates(settings):
    """Small limits (3 per hour, 2 a minute for the lookups) so a test reaches them quickly."""

    def set_rates(**changes):
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **changes}
        settings.REST_FRAMEWORK = rest

    set_rates(**{scope: "3/hour" for scope in SCOPES if scope not in ("anon", "user", "referral_lookup")})
    set_rates(referral_lookup="2/min")
    return set_rates


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def api_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def anonymous_request(address="198.51.100.7", **meta):
    request = RequestFactory().post("/", REMOTE_ADDR=address, **meta)
    request.user = AnonymousUser()
    return request


# --- the counters ---------------------------------------------------------------------------


def test_every_scope_has_a_rate_in_the_settings(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    for scope in SCOPES:
        count, seconds = parse_rate(rates[scope])
        assert count > 0 and seconds > 0, scope


def test_a_refused_request_is_not_counted_and_the_window_slides(rates, clock):
    request = anonymous_request()
    assert [throttle_hit(request, "signup").allowed for _ in range(5)] == [True, True, True, False, False]
    wait = throttle_hit(request, "signup").wait

    # The next hour still carries most of this hour's three hits: no double burst at the edge…
    clock.move_to(NOW + timedelta(hours=1, minutes=1))
    assert not throttle_hit(request, "signup").allowed
    # …and the announced wait is right: refused just before it, one more request fits after it
    # (the refusals did not count).
    clock.move_to(NOW + timedelta(seconds=wait - 5))
    assert not throttle_hit(request, "signup").allowed
    clock.move_to(NOW + timedelta(seconds=wait))
    assert throttle_hit(request, "signup").allowed
    assert not throttle_hit(request, "signup").allowed


def test_signed_in_users_are_counted_by_id_and_strangers_by_address(rates, clock, user):
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        request = anonymous_request(address)
        request.user = user
        assert throttle_hit(request, "ticket").allowed
    request = anonymous_request("10.0.0.4")
    request.user = user
    assert not throttle_hit(request, "ticket").allowed
    assert throttle_hit(anonymous_request("10.0.0.4"), "ticket").allowed


# --- finding 7: the pages share the API's limits ----------------------------------------------


def test_ticket_page_is_throttled_together_with_the_api(rates, clock, client, user):
    api = api_for(user)
    for index in range(2):
        assert api.post("/api/v1/tickets/", {"subject": f"API {index}", "text": "?"}).status_code == 201
    client.force_login(user)
    assert client.post(reverse("support:ticket_create"), {"subject": "Page", "text": "?"}).status_code == 302

    page = client.post(reverse("support:ticket_create"), {"subject": "One more", "text": "?"})
    api_refused = api.post("/api/v1/tickets/", {"subject": "API again", "text": "?"})

    assert page.status_code == 429
    assert "Слишком много попыток. Попробуйте снова через" in page.content.decode()
    assert int(page["Retry-After"]) > 0
    assert api_refused.status_code == 429
    assert Ticket.objects.filter(user=user).count() == 3
    # Reading stays open.
    assert client.get(reverse("support:tickets")).status_code == 200
    assert api.get("/api/v1/tickets/").status_code == 200


def test_topup_page_is_throttled_together_with_the_api(rates, clock, client, user):
    api = api_for(user)
    for _ in range(3):
        assert api.post("/api/v1/billing/topups/", {"amount": "500.00"}).status_code == 201
    client.force_login(user)

    page = client.post(reverse("billing:topup"), {"amount": "500"})

    assert page.status_code == 429
    assert Payment.objects.filter(user=user).count() == 3


def test_avatar_upload_on_the_profile_page_is_throttled_together_with_the_api(rates, clock, client, user):
    city = CityFactory()
    api = api_for(user)
    for _ in range(3):
        assert api.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes())}, format="multipart").status_code == 200
    client.force_login(user)
    user.refresh_from_db()
    avatar_before = user.avatar.name

    refused = client.post(
        "/profile/", {"first_name": "Мария", "avatar_upload": upload(image_bytes("JPEG"), "me.jpg", "image/jpeg")}
    )
    saved_without_image = client.post("/profile/", {"first_name": "Мария", "city": city.pk})

    assert refused.status_code == 429
    assert "Слишком много попыток" in str(refused.context["form"].errors["avatar_upload"])
    assert saved_without_image.status_code == 302  # only uploads count
    user.refresh_from_db()
    assert user.avatar.name == avatar_before and user.first_name == "Мария"


def test_photo_and_logo_uploads_share_the_upload_limit(rates, clock, client, user):
    organization = OrganizationFactory(owner=user)
    api = api_for(user)
    for _ in range(2):
        response = api.post(
            f"/api/v1/organizations/{organization.pk}/photos/", {"image": image_upload()}, format="multipart"
        )
        assert response.status_code == 201
    client.force_login(user)
    assert client.post(reverse("catalog:photos", args=[organization.pk]), {"image": image_upload()}).status_code == 302

    photo = client.post(reverse("catalog:photos", args=[organization.pk]), {"image": image_upload()})
    logo = client.post(
        reverse("catalog:create"),
        {"name": "С логотипом", "city": CityFactory().pk, "address": "ул. Ленина, 1", "logo": image_upload()},
    )
    without_logo = client.post(reverse("catalog:create"), {"name": "Без логотипа", "city": CityFactory().pk})

    assert photo.status_code == 429
    assert logo.status_code == 429 and logo.context["form"].errors["logo"]
    assert without_logo.status_code == 302
    assert OrganizationPhoto.objects.filter(organization=organization).count() == 3
    assert not Organization.objects.filter(name="С логотипом").exists()


# --- strangers: signup, password reset, referral lookup, callbacks ----------------------------


def signup(client, index, **extra):
    return client.post(
        reverse("account_signup"),
        {"email": f"new{index}@example.com", "password1": "Very-long-pass-42", "password2": "Very-long-pass-42"},
        **extra,
    )


def test_signup_is_throttled_per_address_and_rotating_x_forwarded_for_does_not_help(rates, clock, client):
    for index in range(3):
        assert signup(client, index, HTTP_X_FORWARDED_FOR=f"203.0.113.{index}").status_code == 302

    refused = signup(client, 9, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert refused.status_code == 429
    assert "Слишком много запросов" in refused.content.decode()
    assert client.get(reverse("account_signup")).status_code == 200  # the form itself still opens


def test_behind_one_proxy_only_the_address_it_saw_counts(rates, clock, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forges the left part; our proxy appends the address it saw.
    for index in range(3):
        forged = f"10.9.9.{index}, 192.0.2.50"
        assert signup(client, index, HTTP_X_FORWARDED_FOR=forged).status_code == 302
    assert signup(client, 8, HTTP_X_FORWARDED_FOR="10.9.9.99, 192.0.2.50").status_code == 429
    assert signup(client, 9, HTTP_X_FORWARDED_FOR="192.0.2.51").status_code == 302  # another client


def test_password_reset_is_throttled(rates, clock, client, user):
    for _ in range(3):
        assert client.post(reverse("account_reset_password"), {"email": user.email}).status_code == 302
    assert client.post(reverse("account_reset_password"), {"email": user.email}).status_code == 429


def test_referral_lookup_cannot_be_unthrottled_by_rotating_x_forwarded_for(rates, clock, api_client):
    statuses = [
        api_client.get(
            "/api/v1/referrals/code/", {"email": f"probe{index}@example.com"}, HTTP_X_FORWARDED_FOR=f"198.18.0.{index}"
        ).status_code
        for index in range(5)
    ]
    assert statuses == [404, 404, 429, 429, 429]


def test_referral_apply_has_its_own_limit(rates, clock, user):
    api = api_for(user)
    statuses = [api.post("/api/v1/referrals/apply/", {"code": f"NOPE{index}"}).status_code for index in range(4)]
    assert statuses == [400, 400, 400, 429]


@pytest.mark.parametrize(
    "path,data",
    [
        ("/billing/robokassa/result/", {"OutSum": "1", "InvId": "1", "SignatureValue": "forged"}),
        ("/telegram/webhook/", {}),
        ("/vk/callback/", {}),
    ],
)
def test_callbacks_and_webhooks_are_throttled_per_address_before_any_check(rates, clock, client, path, data):
    answers = [client.post(path, data, REMOTE_ADDR="192.0.2.10").status_code for _ in range(4)]

    assert answers[:3] == [answers[0]] * 3 and answers[0] in (400, 403)
    assert answers[3] == 429
    refused = client.post(path, data, REMOTE_ADDR="192.0.2.10")
    assert refused["Content-Type"].startswith("text/plain") and int(refused["Retry-After"]) > 0
    assert client.post(path, data, REMOTE_ADDR="192.0.2.11").status_code == answers[0]
