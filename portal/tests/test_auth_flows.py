import pytest
from django.core import mail

from portal.models import User
from portal.tests.emails import confirmation_path
from portal.tests.factories import USER_PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_confirm_and_login(client):
    # given a visitor signs up
    response = client.post(
        "/accounts/signup/", {"email": "new@example.com", "password1": "Sup3r-secret!", "password2": "Sup3r-secret!"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert len(mail.outbox) == 1

    # when they follow the emailed link and confirm
    link = confirmation_path(mail.outbox[0])
    assert client.get(link).status_code == 200
    response = client.post(link)

    # then the address is verified and they are logged in
    assert response.status_code == 302
    assert user.emailaddress_set.get().verified
    assert client.get("/api/v1/me/").json()["email"] == "new@example.com"


def test_login_before_confirmation_asks_to_confirm(client):
    client.post(
        "/accounts/signup/", {"email": "n@example.com", "password1": "Sup3r-secret!", "password2": "Sup3r-secret!"}
    )
    client.logout()

    response = client.post("/accounts/login/", {"login": "n@example.com", "password": "Sup3r-secret!"})

    assert response.status_code == 302
    assert "confirm-email" in response["Location"]
    assert client.get("/api/v1/me/").status_code == 401


def test_signup_form_errors_are_shown_and_nothing_created(client):
    response = client.post("/accounts/signup/", {"email": "not-an-email", "password1": "a", "password2": "b"})

    assert response.status_code == 200
    assert User.objects.count() == 0
    assert b"invalid-feedback" in response.content


def test_login_and_logout(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": USER_PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me/").status_code == 200

    client.post("/accounts/logout/")
    assert client.get("/api/v1/me/").status_code == 401


def test_wrong_password_is_refused(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})

    assert response.status_code == 200
    assert client.get("/api/v1/me/").status_code == 401


def test_password_reset_sends_a_link(client, user):
    response = client.post("/accounts/password/reset/", {"email": user.email})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_blocked_user_cannot_log_in(client, user):
    from portal.services import user_block

    user_block(user=user, reason="Мошенничество")
    response = client.post("/accounts/login/", {"login": user.email, "password": USER_PASSWORD}, follow=True)

    assert client.get("/api/v1/me/").status_code == 401
    assert "заблокирован" in response.content.decode().lower() or "blocked" in response.content.decode().lower()


def test_blocked_users_session_ends_on_next_request(client, user):
    from portal.services import user_block

    client.force_login(user)
    user_block(user=user, reason="spam")

    response = client.get("/")

    assert response.status_code == 302
    assert client.get("/api/v1/me/").status_code == 401


def test_pages_render_in_russian(client):
    response = client.get("/")

    assert response.status_code == 200
    assert 'lang="ru"' in response.content.decode()


def test_login_page_and_404(client):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
