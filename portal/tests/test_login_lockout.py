"""Login lockout (django-axes): per username + client address, on every form that
checks a password; the client address honours TRUSTED_PROXY_COUNT only."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.adapter import get_adapter
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.utils import timezone

from portal.models import SecurityEvent
from portal.tests.factories import USER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOCKED_TEXT = "Слишком много неудачных попыток входа"


def _login(client, email, password, **extra):
    return client.post(LOGIN, {"login": email, "password": password}, **extra)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_brute_force_then_the_right_password_does_not_log_in(client, staff_user):
    # The finding: 50 wrong passwords on the admin login, then the right one logged in.
    for attempt in range(50):
        client.post("/admin/login/", {"username": staff_user.email, "password": f"wrong-{attempt}"})
    response = client.post("/admin/login/", {"username": staff_user.email, "password": USER_PASSWORD})

    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not _signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_admin_login_sends_everyone_to_the_site_login(client, staff_user):
    # The admin's own password form is gone: even the right password does not sign in
    # there, so nobody skips the lockout and the 2FA step of the site login.
    response = client.post(
        "/admin/login/?next=/admin/portal/user/", {"username": staff_user.email, "password": USER_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fportal%2Fuser%2F"
    assert not _signed_in(client)


def test_brute_force_through_the_admin_entry_is_locked_out(client, staff_user):
    # given the login form the admin sends staff to
    login_url = client.get("/admin/", follow=True).redirect_chain[-1][0]
    assert login_url.startswith(LOGIN)

    # when 50 wrong passwords are tried, then the right one
    responses = [client.post(login_url, {"login": staff_user.email, "password": f"x{n}"}) for n in range(50)]
    statuses = [r.status_code for r in responses]
    response = client.post(login_url, {"login": staff_user.email, "password": USER_PASSWORD})

    # then the lockout answers from the fifth failure on (allauth's per-address request
    # limit joins in later), and the right password gets nowhere
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}
    assert LOCKED_TEXT in responses[4].content.decode()
    assert response.status_code == 429
    assert not _signed_in(client)


def test_site_login_locks_after_the_limit_with_a_clear_russian_message(client, user):
    for attempt in range(4):
        assert _login(client, user.email, f"wrong-{attempt}").status_code == 200

    fifth = _login(client, user.email, "wrong-5")
    right = _login(client, user.email, USER_PASSWORD)

    assert fifth.status_code == 429
    html = right.content.decode()
    assert right.status_code == 429
    assert LOCKED_TEXT in html and "15 минут" in html
    assert not _signed_in(client)


def test_case_changes_of_the_email_count_as_the_same_account(client, user):
    for attempt in range(5):
        _login(client, user.email.upper() if attempt % 2 else user.email, "wrong")

    assert _login(client, user.email.title(), USER_PASSWORD).status_code == 429
    assert not _signed_in(client)


def test_the_lockout_lifts_after_the_cool_off(client, user, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            _login(client, user.email, "wrong")
        assert _login(client, user.email, USER_PASSWORD).status_code == 429

        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        response = _login(client, user.email, USER_PASSWORD)

    assert response.status_code == 302
    assert _signed_in(client)


def test_the_failure_limit_and_cool_off_are_settings(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)

    _login(client, user.email, "wrong")
    second = _login(client, user.email, "wrong")

    assert second.status_code == 429
    assert "3 минуты" in second.content.decode()


def test_a_success_before_the_limit_starts_the_count_again(client, user):
    for _ in range(4):
        _login(client, user.email, "wrong")
    assert _login(client, user.email, USER_PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):
        assert _login(client, user.email, "wrong").status_code == 200


def test_the_lockout_is_per_username_and_address(client, user, other_user):
    for _ in range(5):
        _login(client, user.email, "wrong", REMOTE_ADDR="198.51.100.1")
    assert _login(client, user.email, USER_PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429

    # the same person from another address, and another person from the same address, get in
    assert _login(client, user.email, USER_PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302
    client.logout()
    assert _login(client, other_user.email, USER_PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_reauthentication_failures_count_too(client, user):
    client.force_login(user)
    for _ in range(5):
        client.post("/accounts/reauthenticate/", {"password": "wrong"})

    response = client.post("/accounts/reauthenticate/", {"password": USER_PASSWORD})

    assert response.status_code == 429


# --- X-Forwarded-For: trusted only behind TRUSTED_PROXY_COUNT proxies ------------------


def test_rotating_x_forwarded_for_does_not_escape_the_lockout_without_trusted_proxies(client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 0

    for n in range(5):
        _login(client, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = _login(client, user.email, USER_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429
    assert not _signed_in(client)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_behind_one_trusted_proxy_each_client_has_its_own_lockout(client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    for _ in range(5):
        _login(client, user.email, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    locked = _login(client, user.email, USER_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    other_client = _login(client, user.email, USER_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)

    assert locked.status_code == 429
    assert other_client.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


@pytest.mark.parametrize(("proxies", "expected"), [(0, "10.0.0.2"), (1, "203.0.113.7"), (2, "198.51.100.4")])
def test_allauth_reads_the_client_address_the_same_way(settings, proxies, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4, 203.0.113.7")

    assert get_adapter(request).get_client_ip(request) == expected


def test_the_security_log_records_failures_and_one_lockout(client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(7):
        _login(client, user.email, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7")

    events = SecurityEvent.objects.order_by("pk")
    kinds = [event.kind for event in events]
    assert kinds.count(SecurityEvent.Kind.LOCKOUT) == 1
    assert kinds.count(SecurityEvent.Kind.LOGIN_FAILED) == 7
    assert {event.ip for event in events} == {"203.0.113.7"}
    assert {event.user for event in events} == {user}
    refused = events.filter(details__reason="locked_out")
    assert refused.count() == 2


def test_no_api_endpoint_takes_a_password(api_client, user):
    import base64

    credentials = base64.b64encode(f"{user.email}:{USER_PASSWORD}".encode()).decode()
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Basic {credentials}")

    assert response.status_code == 401
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN).exists()


def test_a_user_unknown_to_the_site_is_locked_out_just_the_same(client):
    for _ in range(5):
        _login(client, "nobody@example.com", "guess")

    assert _login(client, "nobody@example.com", "guess").status_code == 429
    assert UserFactory(email="someone@example.com")  # others are unaffected
    assert _login(client, "someone@example.com", USER_PASSWORD).status_code == 302
