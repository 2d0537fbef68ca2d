import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_me_anonymous_is_401_with_error_format(api_client):
    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    body = response.json()
    assert set(body) >= {"detail", "code"}
    assert body["code"] == "not_authenticated"


def test_me_logged_in(user_api, user):
    response = user_api.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["id"] == user.pk


def test_blocked_user_gets_403_user_blocked(user_api, user):
    from portal.services import user_block

    user_block(user=user, reason="spam")
    response = user_api.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["code"] == "user_blocked"


def test_unknown_api_path_is_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_schema_generates_without_warnings(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", "/dev/null")
    captured = capsys.readouterr()
    assert "Warning" not in captured.err


def test_schema_and_docs_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert reverse("api-docs") == "/api/docs/"
