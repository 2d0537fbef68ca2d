"""Account deletion in portal: the service, DELETE /api/v1/me/, the page and the admin action."""

from collections.abc import Mapping

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.core.files.storage import default_storage
from django.test import Client

from portal import errors
from portal.models import TelegramLinkToken, User
from portal.services import (
    telegram_link_create,
    user_avatar_set,
    user_block,
    user_delete,
    user_is_erased,
)
from portal.signals import user_erasing
from portal.tests.factories import USER_PASSWORD, UserFactory
from portal.tests.images import image_bytes, upload
from support.models import Ticket
from support.services import ticket_create

pytestmark = pytest.mark.django_db


def _snapshot(user) -> Mapping[str, object]:
    return User.objects.values().get(pk=user.pk)


# --- the service -------------------------------------------------------------------------------


def test_delete_anonymises_the_row_and_removes_the_identities(user, django_capture_on_commit_callbacks):
    user_avatar_set(user=user, file=upload(image_bytes("PNG"), "me.png"))
    user.refresh_from_db()
    files = [user.avatar.name, user.avatar_thumbnail.name]
    app = SocialApp.objects.create(provider="vk", name="VK", client_id="id", secret="s")
    account = SocialAccount.objects.create(user=user, provider="vk", uid="777")
    SocialToken.objects.create(app=app, account=account, token="t")
    telegram_link_create(user=user)
    user.phone = "+79120001122"
    user.save()
    email = user.email

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user)

    user.refresh_from_db()
    assert user_is_erased(user)
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert (user.first_name, user.last_name, user.phone, user.avatar.name, user.avatar_thumbnail.name) == ("",) * 5
    assert not user.has_usable_password()
    assert not any(default_storage.exists(name) for name in files)
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(email__iexact=email).exists()
    assert not SocialAccount.objects.exists() and not SocialToken.objects.exists()
    assert not TelegramLinkToken.objects.exists()


def test_files_stay_when_the_deletion_rolls_back(user):
    user_avatar_set(user=user, file=upload(image_bytes("PNG"), "me.png"))
    user.refresh_from_db()

    def refuse(**kwargs):
        raise errors.Conflict("not now")

    user_erasing.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(errors.Conflict):
            user_delete(user=user)
    finally:
        user_erasing.disconnect(dispatch_uid="test.refuse")

    # a receiver refusing takes the whole deletion back
    user.refresh_from_db()
    assert user.is_active and user.email.endswith("@example.com")
    assert default_storage.exists(user.avatar.name)
    assert EmailAddress.objects.filter(user=user).exists()


def test_the_signal_carries_the_user_with_data_still_in_place(user, staff_user):
    seen = []

    def receiver(sender, *, user, by, now, **kwargs):
        seen.append((sender, user.email, by, now is not None))

    user_erasing.connect(receiver, dispatch_uid="test.seen")
    try:
        email = user.email
        user_delete(user=user, by=staff_user)
    finally:
        user_erasing.disconnect(dispatch_uid="test.seen")

    assert seen == [(User, email, staff_user, True)]


def test_tickets_are_closed_and_their_text_erased(user, staff_user):
    open_ticket = ticket_create(user=user, subject="Меня зовут Анна", text="Мой телефон +7 912 000-11-22")

    user_delete(user=user)

    open_ticket.refresh_from_db()
    assert open_ticket.status == Ticket.Status.CLOSED
    assert "Анна" not in open_ticket.subject and "912" not in open_ticket.text
    change = open_ticket.history.get()
    assert (change.from_status, change.to_status, change.changed_by_id) == ("open", "closed", user.pk)


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_superuser": True}])
def test_staff_accounts_are_refused(flags):
    staff = UserFactory(**flags)
    before = _snapshot(staff)

    with pytest.raises(errors.Conflict) as exc:
        user_delete(user=staff)

    assert exc.value.code == "staff_account"
    assert _snapshot(staff) == before


def test_a_blocked_user_cannot_delete_their_account_but_staff_can_erase_it(user, staff_user):
    user_block(user=user, reason="Спам", by=staff_user)

    with pytest.raises(errors.UserBlocked):
        user_delete(user=user)
    assert User.objects.get(pk=user.pk).is_active

    user_delete(user=user, by=staff_user)
    user.refresh_from_db()
    assert user_is_erased(user)
    assert user.is_blocked  # the block and its reason stay: staff's record


def test_only_staff_delete_someone_else(user, other_user):
    with pytest.raises(errors.PermissionDenied):
        user_delete(user=user, by=other_user)
    assert User.objects.get(pk=user.pk).is_active


def test_deleting_twice_changes_nothing_more(user, staff_user):
    ticket_create(user=user, subject="Вопрос", text="Текст")
    user_delete(user=user)
    first = _snapshot(user)
    tickets = list(Ticket.objects.filter(user=user).values())

    user_delete(user=user, by=staff_user)

    assert _snapshot(user) == first
    assert list(Ticket.objects.filter(user=user).values()) == tickets


def test_other_users_are_untouched(user, other_user):
    before = _snapshot(other_user)
    emails = list(EmailAddress.objects.filter(user=other_user).values())

    user_delete(user=user)

    assert _snapshot(other_user) == before
    assert list(EmailAddress.objects.filter(user=other_user).values()) == emails


# --- DELETE /api/v1/me/ --------------------------------------------------------------------------


def test_api_delete_answers_204_and_ends_the_session(user_api, user):
    response = user_api.delete("/api/v1/me/")

    assert response.status_code == 204
    assert response.content == b""
    assert user_is_erased(User.objects.get(pk=user.pk))
    assert user_api.get("/api/v1/me/").status_code == 401


def test_api_delete_needs_authentication(api_client, user):
    response = api_client.delete("/api/v1/me/")

    assert response.status_code == 401
    assert User.objects.get(pk=user.pk).is_active


def test_api_delete_refuses_a_blocked_user_with_403(user_api, user, staff_user):
    user_block(user=user, reason="Спам", by=staff_user)
    before = _snapshot(user)

    response = user_api.delete("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["code"] == "user_blocked"
    assert _snapshot(user) == before


def test_api_delete_refuses_staff_with_409(staff_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(staff_user)

    response = client.delete("/api/v1/me/")

    assert response.status_code == 409
    assert response.json()["code"] == "staff_account"
    assert User.objects.get(pk=staff_user.pk).is_active


def test_api_delete_with_a_session_needs_the_csrf_token(user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.delete("/api/v1/me/").status_code == 403
    assert User.objects.get(pk=user.pk).is_active


def test_schema_documents_the_delete_answers(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/me/"]["delete"]

    assert {"204", "401", "403", "409"} <= set(operation["responses"])


# --- the page --------------------------------------------------------------------------------------


def _log_in(client, user):
    assert client.post("/accounts/login/", {"login": user.email, "password": USER_PASSWORD}).status_code == 302


def test_profile_links_to_the_deletion_page_which_explains_in_russian(client, user):
    _log_in(client, user)

    profile = client.get("/profile/").content.decode()
    page = client.get("/profile/delete/").content.decode()

    assert 'href="/profile/delete/"' in profile
    assert "Что будет стёрто" in page and "Что останется" in page
    assert "УДАЛИТЬ" in page


def test_the_page_deletes_the_account_logs_out_and_confirms(client, user, django_capture_on_commit_callbacks):
    # given a user who logged in and uploaded an avatar through the profile page
    _log_in(client, user)
    client.post(
        "/profile/",
        {"first_name": "Анна", "last_name": "Смирнова", "phone": "", "city": "",
         "avatar_upload": upload(image_bytes("PNG"), "me.png")},
    )  # fmt: skip
    user.refresh_from_db()
    assert user.avatar
    files = [user.avatar.name, user.avatar_thumbnail.name]
    email = user.email

    # when they confirm with the word
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/profile/delete/", {"confirmation": " удалить "}, follow=True)

    # then the account is gone, they are logged out and told so
    assert response.redirect_chain == [("/", 302)]
    assert "Ваш аккаунт удалён" in response.content.decode()
    user.refresh_from_db()
    assert user_is_erased(user)
    assert not any(default_storage.exists(name) for name in files)
    assert client.get("/profile/").status_code == 302
    # the old email and password lead nowhere
    client.post("/accounts/login/", {"login": email, "password": USER_PASSWORD})
    assert client.get("/api/v1/me/").status_code == 401


def test_the_page_without_the_word_deletes_nothing(client, user):
    _log_in(client, user)
    before = _snapshot(user)

    response = client.post("/profile/delete/", {"confirmation": "да"})

    assert response.status_code == 200
    assert "УДАЛИТЬ" in response.content.decode()
    assert _snapshot(user) == before


def test_the_page_tells_staff_they_cannot_delete(client, staff_user):
    client.force_login(staff_user)

    page = client.get("/profile/delete/").content.decode()
    response = client.post("/profile/delete/", {"confirmation": "УДАЛИТЬ"})

    assert "Аккаунт сотрудника удалить нельзя" in page
    assert 'name="confirmation"' not in page
    assert response.status_code == 200
    assert User.objects.get(pk=staff_user.pk).is_active


def test_the_page_needs_login(client):
    response = client.get("/profile/delete/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_second_session_ends_too(user):
    phone, laptop = Client(), Client()
    _log_in(phone, user)
    _log_in(laptop, user)

    phone.post("/profile/delete/", {"confirmation": "УДАЛИТЬ"})

    assert laptop.get("/api/v1/me/").status_code == 401
    assert laptop.get("/profile/").status_code == 302


# --- the admin action --------------------------------------------------------------------------------


def test_admin_erase_asks_for_confirmation_first(staff_client, user):
    response = staff_client.post("/admin/portal/user/", {"action": "erase_users", "_selected_action": [user.pk]})

    assert response.status_code == 200
    assert user.email in response.content.decode()
    assert User.objects.get(pk=user.pk).is_active


def test_admin_erase_deletes_a_blocked_user_and_skips_staff(staff_client, staff_user, user):
    user_block(user=user, reason="Спам", by=staff_user)
    colleague = UserFactory(is_staff=True)

    response = staff_client.post(
        "/admin/portal/user/",
        {"action": "erase_users", "_selected_action": [user.pk, colleague.pk], "apply": "1"},
        follow=True,
    )

    assert response.status_code == 200
    assert user_is_erased(User.objects.get(pk=user.pk))
    assert User.objects.get(pk=colleague.pk).is_active
