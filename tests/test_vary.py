"""Public answers to visitors without a session do not vary on the cookie."""

import pytest
from django.utils.cache import has_vary_header

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/referrals/code/?email=nobody@example.com"])
def test_no_session_no_vary_cookie(client, path):
    response = client.get(path)

    assert response.status_code in (200, 404)
    assert not has_vary_header(response, "Cookie")


def test_a_blocked_users_session_still_ends_on_the_next_page(client, user):
    client.force_login(user)
    user.is_blocked = True
    user.save(update_fields=["is_blocked"])

    response = client.get("/profile/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
