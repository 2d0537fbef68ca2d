"""Staff two-factor authentication (allauth.mfa): no admin page without TOTP set up
and passed in this session; set-up, sign-in with a real code, recovery codes."""

import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from portal.middleware import STAFF_SESSION_STARTED_KEY
from portal.models import SecurityEvent, User
from portal.tests.factories import USER_PASSWORD, UserFactory
from portal.tests.mfa import TOTP_SECRET, totp_code

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/admin/", "/admin/portal/user/", "/admin/billing/ledgerentry/grant/", "/admin/portal/securityevent/"]


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _kinds(user) -> list[str]:
    return list(SecurityEvent.objects.filter(user=user).order_by("pk").values_list("kind", flat=True))


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_refuses_staff_without_two_factor(client, url):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_without_two_factor_cannot_act_in_the_admin(client, user):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.post("/admin/portal/user/", {"action": "verify_users", "_selected_action": [user.pk]})

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_verified


def test_staff_with_totp_must_enter_a_code_in_this_session(client, staff_user):
    client.force_login(staff_user)  # e.g. signed in through a Mini App: no code entered

    response = client.get("/admin/portal/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fadmin%2Fportal%2Fuser%2F"

    wrong = client.post(response["Location"], {"code": "not-a-code"})
    assert wrong.status_code == 200
    assert client.get("/admin/").status_code == 302

    passed = client.post(response["Location"], {"code": totp_code()})
    assert passed.status_code == 302 and passed["Location"] == "/admin/portal/user/"
    assert client.get("/admin/portal/user/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_staff_sets_up_totp_through_the_pages_then_the_admin_opens(client):
    # given a staff member with no authenticator, signed in with the password
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert client.post("/accounts/login/", {"login": staff.email, "password": USER_PASSWORD}).status_code == 302

    # the admin sends them to set up the app, which first asks for the password again
    activate = client.get("/admin/")["Location"]
    assert activate == "/accounts/2fa/totp/activate/"
    reauth = client.get(activate)
    assert reauth["Location"] == "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    assert client.post(reauth["Location"], {"password": USER_PASSWORD})["Location"] == activate

    # the set-up page shows a QR code and the secret; the app's code activates it
    page = client.get(activate)
    assert page.status_code == 200
    html = page.content.decode()
    assert "data:image/svg+xml;base64," in html and 'class="navbar' in html
    secret = page.context["form"].secret
    assert secret in html
    assert client.post(activate, {"code": "000000" if totp_code(secret) != "000000" else "111111"}).status_code == 200
    done = client.post(activate, {"code": totp_code(secret)})

    # then recovery codes are shown, and the admin opens in this session
    assert done.status_code == 302 and done["Location"] == "/accounts/2fa/recovery-codes/"
    codes_page = client.get(done["Location"])
    assert codes_page.status_code == 200
    assert set(Authenticator.objects.filter(user=staff).values_list("type", flat=True)) == {"totp", "recovery_codes"}
    assert client.get("/admin/").status_code == 200
    assert SecurityEvent.Kind.MFA_ACTIVATED in _kinds(staff)
    assert SecurityEvent.Kind.RECOVERY_CODES_GENERATED in _kinds(staff)


def test_staff_signs_in_with_password_and_a_real_totp_code(client, staff_user):
    response = client.post("/accounts/login/?next=/admin/", {"login": staff_user.email, "password": USER_PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not _signed_in(client)

    wrong = client.post("/accounts/2fa/authenticate/", {"code": totp_code(at=time.time() - 3600)})
    assert wrong.status_code == 200 and not _signed_in(client)

    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert _kinds(staff_user) == [SecurityEvent.Kind.MFA_FAILED, SecurityEvent.Kind.LOGIN]


def test_a_totp_code_cannot_be_used_twice(client, staff_user):
    code = totp_code()
    client.post("/accounts/login/", {"login": staff_user.email, "password": USER_PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert _signed_in(client)
    client.logout()

    client.post("/accounts/login/", {"login": staff_user.email, "password": USER_PASSWORD})
    again = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert again.status_code == 200
    assert not _signed_in(client)


def test_a_recovery_code_works_once(client, staff_user):
    code = RecoveryCodes.activate(staff_user).generate_codes()[0]

    client.post("/accounts/login/?next=/admin/", {"login": staff_user.email, "password": USER_PASSWORD})
    first = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert first.status_code == 302 and first["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.logout()

    client.post("/accounts/login/?next=/admin/", {"login": staff_user.email, "password": USER_PASSWORD})
    second = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert second.status_code == 200
    assert not _signed_in(client)
    [used] = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.RECOVERY_CODE_USED)
    assert (used.user, used.details["codes_left"]) == (staff_user, 9)
    assert used.details["codes_left"] == len(
        RecoveryCodes(Authenticator.objects.get(type="recovery_codes")).get_unused_codes()
    )


def test_deactivating_totp_is_logged_and_closes_the_admin_again(client, staff_user, django_capture_on_commit_callbacks):
    from portal.tests.mfa import session_pass_second_factor, session_reauthenticate

    client.force_login(staff_user)
    session_pass_second_factor(client, staff_user)
    session_reauthenticate(client, staff_user)

    response = client.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=staff_user).exists()
    assert SecurityEvent.Kind.MFA_DEACTIVATED in _kinds(staff_user)
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_two_factor_pages_use_the_site_layout_in_russian(staff_client):
    html = staff_client.get("/accounts/2fa/").content.decode()

    assert 'class="navbar' in html
    assert "Двухфакторная аутентификация" in html


def test_the_helper_computes_the_codes_allauth_accepts():
    from allauth.mfa.totp.internal.auth import validate_totp_code

    assert validate_totp_code(TOTP_SECRET, totp_code())
    assert not validate_totp_code(TOTP_SECRET, totp_code(at=time.time() - 600))


def test_a_code_typed_as_it_expires_still_passes_but_not_an_older_one():
    from allauth.mfa.totp.internal.auth import validate_totp_code

    # One 30 s step either side of now, no more (RFC 6238, section 5.2).
    assert validate_totp_code(TOTP_SECRET, totp_code(at=time.time() - 30))
    assert validate_totp_code(TOTP_SECRET, totp_code(at=time.time() + 30))
    assert not validate_totp_code(TOTP_SECRET, totp_code(at=time.time() - 90))


# --- shorter staff sessions ------------------------------------------------------------


def test_a_staff_session_is_short_and_a_user_session_is_not(client, staff_user, user, settings):
    client.force_login(staff_user)
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_AGE == 4 * 3600

    client.force_login(user)
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_a_staff_session_ends_after_its_age_however_active(staff_client, settings):
    assert staff_client.get("/admin/").status_code == 200
    session = staff_client.session
    session[STAFF_SESSION_STARTED_KEY] = time.time() - settings.STAFF_SESSION_AGE - 1
    session.save()

    response = staff_client.get("/admin/portal/user/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/portal/user/"
    assert not _signed_in(staff_client)


def test_staff_are_signed_out_after_the_staff_session_age_users_are_not(client, staff_user, user, settings):
    from django.test import Client

    user_client = Client()
    with time_machine.travel(time.time(), tick=False) as clock:
        client.force_login(staff_user)
        user_client.force_login(user)

        clock.shift(settings.STAFF_SESSION_AGE + 60)

        assert client.get("/admin/").status_code == 302
        assert not _signed_in(client)
        assert user_client.get("/accounts/2fa/").status_code == 200
        assert _signed_in(user_client)


def test_the_staff_session_age_is_a_setting(client, staff_user, settings):
    settings.STAFF_SESSION_AGE = 600

    client.force_login(staff_user)

    assert client.session.get_expiry_age() == 600
    assert User.objects.get(pk=staff_user.pk).is_staff
