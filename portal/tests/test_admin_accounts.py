import pytest

from portal.models import SecurityEvent, User
from portal.tests.factories import USER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_block_action_asks_for_a_reason_first(staff_client, user):
    response = staff_client.post("/admin/portal/user/", {"action": "block_users", "_selected_action": [user.pk]})

    assert response.status_code == 200
    assert "reason" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_blocked


def test_block_action_without_reason_blocks_nobody(reauthenticated_staff_client, user):
    response = reauthenticated_staff_client.post(
        "/admin/portal/user/", {"action": "block_users", "_selected_action": [user.pk], "apply": "1", "reason": " "}
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.is_blocked


def test_block_action_records_reason_who_and_when(reauthenticated_staff_client, staff_user, user):
    from django.test import Client

    response = reauthenticated_staff_client.post(
        "/admin/portal/user/",
        {"action": "block_users", "_selected_action": [user.pk], "apply": "1", "reason": "Спам в отзывах"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.is_blocked, user.blocked_reason, user.blocked_by) == (True, "Спам в отзывах", staff_user)
    assert user.blocked_at is not None
    # and the user can no longer log in on the site
    client = Client()
    login = client.post("/accounts/login/", {"login": user.email, "password": USER_PASSWORD}, follow=True)
    assert "_auth_user_id" not in client.session
    assert "заблокирован" in login.content.decode().lower() or "blocked" in login.content.decode().lower()


def test_staff_cannot_block_themselves(reauthenticated_staff_client, staff_user):
    response = reauthenticated_staff_client.post(
        "/admin/portal/user/",
        {"action": "block_users", "_selected_action": [staff_user.pk], "apply": "1", "reason": "oops"},
        follow=True,
    )

    staff_user.refresh_from_db()
    assert not staff_user.is_blocked
    shown = [str(m) for m in response.context["messages"]]
    assert any("заблокировать самого себя" in m or "block yourself" in m for m in shown), shown


def test_unblock_verify_unverify_actions(staff_client, staff_user):
    blocked = UserFactory(is_blocked=True, blocked_reason="x")

    staff_client.post("/admin/portal/user/", {"action": "unblock_users", "_selected_action": [blocked.pk]})
    staff_client.post("/admin/portal/user/", {"action": "verify_users", "_selected_action": [blocked.pk]})

    blocked.refresh_from_db()
    assert not blocked.is_blocked and blocked.blocked_reason == ""
    assert blocked.is_verified and blocked.verified_by == staff_user and blocked.verified_at

    staff_client.post("/admin/portal/user/", {"action": "unverify_users", "_selected_action": [blocked.pk]})
    blocked.refresh_from_db()
    assert not blocked.is_verified


def test_user_list_filters_and_search(staff_client):
    UserFactory(email="needle@example.com", phone="+79990000000")

    for query in ("?is_blocked__exact=1", "?is_verified__exact=0", "?q=needle", "?q=79990000000"):
        response = staff_client.get(f"/admin/portal/user/{query}")
        assert response.status_code == 200, query
    assert "needle@example.com" in staff_client.get("/admin/portal/user/?q=needle").content.decode()


def test_block_fields_are_not_editable_in_the_change_form(staff_client, user):
    response = staff_client.get(f"/admin/portal/user/{user.pk}/change/")

    assert response.status_code == 200
    assert 'name="is_blocked"' not in response.content.decode()


def test_non_staff_cannot_use_the_admin(client, user):
    client.force_login(user)

    assert client.get("/admin/portal/user/").status_code == 302
    assert not User.objects.filter(is_blocked=True).exists()


# --- re-authentication before blocking, and the security log --------------------------------


def test_blocking_asks_for_the_password_again_then_blocks(staff_client, staff_user, user):
    # given a staff member who signed in (password + code) but has not just re-entered the password
    data = {"action": "block_users", "_selected_action": [user.pk], "apply": "1", "reason": "Мошенничество"}

    response = staff_client.post("/admin/portal/user/", data)

    # then nothing is blocked yet: the password is asked for first
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Fadmin%2Fportal%2Fuser%2F"
    user.refresh_from_db()
    assert not user.is_blocked

    # a wrong password changes nothing
    assert staff_client.post(response["Location"], {"password": "wrong"}).status_code == 200
    user.refresh_from_db()
    assert not user.is_blocked

    # the right one carries out the kept submission
    done = staff_client.post(response["Location"], {"password": USER_PASSWORD})

    assert done.status_code == 302 and done["Location"] == "/admin/portal/user/"
    user.refresh_from_db()
    assert (user.is_blocked, user.blocked_reason, user.blocked_by) == (True, "Мошенничество", staff_user)
    [event] = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.USER_BLOCKED)
    assert (event.user, event.actor, event.ip, event.details) == (
        user,
        staff_user,
        "127.0.0.1",
        {"reason": "Мошенничество"},
    )


def test_the_block_form_itself_opens_without_reauthentication(staff_client, user):
    response = staff_client.post("/admin/portal/user/", {"action": "block_users", "_selected_action": [user.pk]})

    assert response.status_code == 200


def test_unblock_and_verification_are_in_the_security_log(staff_client, staff_user):
    blocked = UserFactory(is_blocked=True, blocked_reason="x")

    for action in ("unblock_users", "verify_users", "unverify_users"):
        staff_client.post("/admin/portal/user/", {"action": action, "_selected_action": [blocked.pk]})

    events = SecurityEvent.objects.filter(user=blocked).order_by("pk")
    assert [(e.kind, e.actor) for e in events] == [
        (SecurityEvent.Kind.USER_UNBLOCKED, staff_user),
        (SecurityEvent.Kind.USER_VERIFIED, staff_user),
        (SecurityEvent.Kind.USER_UNVERIFIED, staff_user),
    ]


def test_the_security_log_is_read_only_with_filters_and_search(staff_client, staff_user, user):
    from portal.services import security_event_record

    security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, username=user.email, ip="203.0.113.9")
    security_event_record(kind=SecurityEvent.Kind.LOGIN, user=staff_user, ip="198.51.100.3")
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    url = "/admin/portal/securityevent/"

    assert staff_client.get(url).status_code == 200
    assert user.email in staff_client.get(f"{url}?q={user.email}").content.decode()
    by_ip = staff_client.get(f"{url}?q=203.0.113").content.decode()
    assert "203.0.113.9" in by_ip and "198.51.100.3" not in by_ip
    assert "198.51.100.3" not in staff_client.get(f"{url}?kind__exact=login_failed").content.decode()
    assert staff_client.get(f"{url}?created_at__year={event.created_at.year}").status_code == 200
    assert staff_client.get(f"{url}{event.pk}/change/").status_code == 200  # a read-only view
    assert staff_client.get(f"{url}add/").status_code == 403
    assert staff_client.post(f"{url}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff_client.post(f"{url}{event.pk}/change/", {"kind": "login"}).status_code == 403
    assert SecurityEvent.objects.count() == 2 + 1  # + the staff member's own sign-in


def _user_change_data(user, **changes):
    data = {
        "email": user.email, "first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
        "city": user.city_id or "", "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "10:00",
        "socialaccount_set-TOTAL_FORMS": 0, "socialaccount_set-INITIAL_FORMS": 0,
        "socialaccount_set-MIN_NUM_FORMS": 0, "socialaccount_set-MAX_NUM_FORMS": 0,
    }  # fmt: skip
    return {k: v for k, v in (data | changes).items() if v is not None}


def test_the_user_change_form_saves_the_profile_through_the_service(staff_client, user):
    # The user admin used to store the phone as typed, skipping the profile's phone rule.
    url = f"/admin/portal/user/{user.pk}/change/"

    response = staff_client.post(url, _user_change_data(user, phone="8 (999) 123-45-67", first_name="Ира"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.phone, user.first_name) == ("+79991234567", "Ира")
    response = staff_client.post(url, _user_change_data(user, phone="12-34"))
    assert response.status_code == 200 and response.context["adminform"].form.errors["phone"]
    user.refresh_from_db()
    assert user.phone == "+79991234567"
