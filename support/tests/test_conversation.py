"""Support as a conversation: messages from both sides (service, API, page, admin), notifications to the
other side, closed tickets refusing messages, the staff queue, the appeal form and account deletion."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from mailings.models import Notification
from portal import errors
from portal.services import user_block, user_delete
from portal.tests.factories import UserFactory
from portal.tests.images import image_bytes, upload
from support import selectors
from support.models import Ticket, TicketMessage
from support.services import appeal_create, ticket_change_status, ticket_create, ticket_message_add
from support.tests.factories import TICKET_PAGE_INLINES, TicketFactory

pytestmark = pytest.mark.django_db
S = Ticket.Status
INLINES = TICKET_PAGE_INLINES


def png(name="shot.png"):
    return upload(image_bytes(size=(120, 80)), name=name)


# --- the service ------------------------------------------------------------------------


def test_a_user_message_notifies_every_staff_member_until_one_worked_on_the_ticket(user, staff_user):
    other_staff = UserFactory(is_staff=True)
    ticket = ticket_create(user=user, subject="Бронь", text="Не могу отменить")

    message = ticket_message_add(ticket=ticket, author=user, text="Добавлю скриншот", attachment=png())

    assert (message.by_staff, message.text) == (False, "Добавлю скриншот")
    assert message.attachment.name.startswith("tickets/") and message.attachment.name.endswith(".jpg")
    keys = set(Notification.objects.filter(kind="ticket_message_staff").values_list("dedupe_key", flat=True))
    assert keys == {
        f"ticket:{ticket.pk}:message:{message.pk}:staff:{staff_user.pk}",
        f"ticket:{ticket.pk}:message:{message.pk}:staff:{other_staff.pk}",
    }
    assert Notification.objects.filter(kind="ticket_new").count() == 2  # the ticket itself, to both


def test_once_staff_answered_only_they_hear_of_the_next_user_message(user, staff_user):
    UserFactory(is_staff=True)  # never touched the ticket
    ticket = ticket_create(user=user, subject="Оплата", text="Двойное списание")
    ticket_message_add(ticket=ticket, author=staff_user, text="Проверяем", as_staff=True)

    second = ticket_message_add(ticket=ticket, author=user, text="Спасибо, жду")

    notified = Notification.objects.filter(dedupe_key__startswith=f"ticket:{ticket.pk}:message:{second.pk}")
    assert [n.user for n in notified] == [staff_user]


def test_a_staff_answer_notifies_the_user_with_the_text(user, staff_user, django_capture_on_commit_callbacks):
    ticket = TicketFactory(user=user, subject="Вход")

    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_message_add(ticket=ticket, author=staff_user, text="Сбросили пароль", as_staff=True)

    notification = Notification.objects.get(user=user, kind="ticket_message")
    assert notification.dedupe_key == f"ticket:{ticket.pk}:message:{message.pk}"
    assert "Сбросили пароль" in notification.text and f"/tickets/{ticket.pk}/" in notification.text
    assert any("Сбросили пароль" in m.body for m in mail.outbox)


@pytest.mark.parametrize("status", [S.RESOLVED, S.REJECTED, S.CLOSED])
def test_a_finished_ticket_takes_no_messages(user, staff_user, status):
    ticket = TicketFactory(user=user, status=status)

    for author, as_staff in ((user, False), (staff_user, True)):
        with pytest.raises(errors.Conflict) as exc:
            ticket_message_add(ticket=ticket, author=author, text="Ещё вопрос", as_staff=as_staff)
        assert exc.value.code == "ticket_closed"
    assert not TicketMessage.objects.exists()


def test_someone_elses_ticket_blocked_users_and_empty_messages_are_refused(user, other_user):
    ticket = TicketFactory(user=user)

    with pytest.raises(errors.NotFound):
        ticket_message_add(ticket=ticket, author=other_user, text="Я тоже")
    with pytest.raises(errors.PermissionDenied):
        ticket_message_add(ticket=ticket, author=other_user, text="Я сотрудник", as_staff=True)
    with pytest.raises(errors.ValidationError):
        ticket_message_add(ticket=ticket, author=user, text="   ")
    with pytest.raises(errors.ValidationError):
        ticket_message_add(ticket=ticket, author=user, text="x" * 4001)
    with pytest.raises(errors.ValidationError) as bad_image:
        ticket_message_add(ticket=ticket, author=user, text="", attachment=upload(b"not an image", name="a.png"))
    assert bad_image.value.code == "image_invalid"
    user.is_blocked = True
    with pytest.raises(errors.UserBlocked):
        ticket_message_add(ticket=ticket, author=user, text="Разблокируйте")
    assert not TicketMessage.objects.exists()


def test_the_queue_puts_unanswered_tickets_first_longest_waiting_on_top(user, staff_user):
    start = timezone.now() - timedelta(hours=5)
    with time_machine.travel(start, tick=False):
        old = ticket_create(user=user, subject="Старое", text="Ждёт давно")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        answered = ticket_create(user=user, subject="Отвеченное", text="?")
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        ticket_message_add(ticket=answered, author=staff_user, text="Ответ", as_staff=True)
        recent = ticket_create(user=user, subject="Новое", text="Только что")
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        finished = ticket_create(user=user, subject="Решено", text="!")
        ticket_change_status(ticket=finished, status=S.RESOLVED, by=staff_user)

    queue = list(selectors.tickets_for_staff())

    assert [t.subject for t in queue[:2]] == ["Старое", "Новое"]
    assert queue[0].waiting_since == old.last_user_message_at
    assert {t.subject for t in queue[2:]} == {"Отвеченное", "Решено"}
    assert all(t.waiting_since is None for t in queue[2:])
    assert selectors.ticket_counts() == {"open": 3, "needs_answer": 2}
    # the user writes again: the answered ticket waits again
    ticket_message_add(ticket=answered, author=user, text="Не помогло")
    assert selectors.ticket_counts()["needs_answer"] == 3
    assert recent.needs_answer


def test_a_staff_comment_on_a_status_change_counts_as_an_answer(user, staff_user):
    ticket = ticket_create(user=user, subject="x", text="y")

    ticket_change_status(ticket=ticket, status=S.IN_PROGRESS, by=staff_user, comment="Взяли в работу")

    ticket.refresh_from_db()
    assert not ticket.needs_answer


# --- the API ----------------------------------------------------------------------------


def test_api_conversation_read_and_write_with_an_image(user_api, user, staff_user):
    ticket = TicketFactory(user=user)
    ticket_message_add(ticket=ticket, author=staff_user, text="Пришлите скриншот", as_staff=True)

    created = user_api.post(
        f"/api/v1/tickets/{ticket.pk}/messages/", {"text": "Вот", "attachment": png()}, format="multipart"
    )
    listing = user_api.get(f"/api/v1/tickets/{ticket.pk}/messages/")

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["text"], body["by_staff"]) == ("Вот", False)
    assert body["attachment"].endswith(f"/tickets/{ticket.pk}/messages/{body['id']}/attachment/")
    assert [(m["text"], m["by_staff"]) for m in listing.json()["results"]] == [
        ("Пришлите скриншот", True),
        ("Вот", False),
    ]
    image = user_api.get(body["attachment"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"


def test_api_json_message_and_the_closed_ticket_conflict(user_api, user):
    ticket = TicketFactory(user=user)

    assert user_api.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"text": "Привет"}, format="json").status_code == 201
    ticket.status = S.CLOSED
    ticket.save()
    response = user_api.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"text": "Ещё"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "ticket_closed"


@pytest.mark.parametrize("payload", [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 4001}])
def test_api_bad_messages_are_400(user_api, user, payload):
    ticket = TicketFactory(user=user)

    assert user_api.post(f"/api/v1/tickets/{ticket.pk}/messages/", payload, format="json").status_code == 400
    assert not TicketMessage.objects.exists()


def test_api_another_users_ticket_and_attachments_are_404(user_api, other_user, staff_user, api_client):
    theirs = TicketFactory(user=other_user)
    message = ticket_message_add(ticket=theirs, author=other_user, text="моё", attachment=png())

    assert user_api.get(f"/api/v1/tickets/{theirs.pk}/messages/").status_code == 404
    assert user_api.post(f"/api/v1/tickets/{theirs.pk}/messages/", {"text": "x"}).status_code == 404
    assert user_api.get(f"/tickets/{theirs.pk}/messages/{message.pk}/attachment/").status_code == 404
    assert api_client.get(f"/api/v1/tickets/{theirs.pk}/messages/").status_code == 401


def test_api_messages_are_throttled_with_the_ticket_policy(user_api, user, settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "ticket_message": "2/hour"}
    settings.REST_FRAMEWORK = rest
    ticket = TicketFactory(user=user)
    client = reverse("support:ticket_reply", args=[ticket.pk])

    codes = [user_api.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"text": f"{n}"}).status_code for n in range(2)]
    page = user_api.post(client, {"text": "третье"})  # the page counts in the same policy

    assert codes == [201, 201]
    assert page.status_code == 429
    assert TicketMessage.objects.count() == 2


# --- the ticket page ----------------------------------------------------------------------


def test_the_page_shows_the_conversation_and_takes_a_reply(client, user, staff_user):
    ticket = TicketFactory(user=user, text="Первое сообщение")
    ticket_message_add(ticket=ticket, author=staff_user, text="Ответ поддержки", as_staff=True)
    client.force_login(user)

    response = client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"text": "Спасибо", "attachment": png()})

    assert response.status_code == 302
    html = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()
    assert html.index("Первое сообщение") < html.index("Ответ поддержки") < html.index("Спасибо")
    mine = TicketMessage.objects.get(by_staff=False)
    assert reverse("support:message_attachment", args=[ticket.pk, mine.pk]) in html


def test_the_page_shows_errors_next_to_the_field_and_no_form_once_closed(client, user):
    ticket = TicketFactory(user=user)
    client.force_login(user)

    response = client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"text": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["text"]

    ticket.status = S.RESOLVED
    ticket.save()
    html = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()
    assert reverse("support:ticket_reply", args=[ticket.pk]) not in html
    refused = client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"text": "ещё"})
    assert refused.status_code == 400 and not TicketMessage.objects.exists()


# --- the admin ----------------------------------------------------------------------------


def test_admin_answers_in_the_conversation_and_the_user_is_notified(staff_client, staff_user, user):
    ticket = TicketFactory(user=user)

    response = staff_client.post(
        reverse("admin:support_ticket_change", args=[ticket.pk]),
        {"reply_text": "Готово, проверьте", "reply_attachment": png(), **INLINES},
    )

    assert response.status_code == 302
    message = TicketMessage.objects.get()
    assert (message.by_staff, message.author, message.text) == (True, staff_user, "Готово, проверьте")
    assert Notification.objects.filter(user=user, kind="ticket_message").exists()
    page = staff_client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    image_url = reverse("admin:support_ticket_attachment", args=[ticket.pk, message.pk])
    assert image_url in page
    assert staff_client.get(image_url)["Content-Type"] == "image/jpeg"


def test_admin_reopens_a_resolved_ticket_and_answers_at_once(staff_client, user):
    ticket = TicketFactory(user=user, status=S.RESOLVED)

    staff_client.post(
        reverse("admin:support_ticket_change", args=[ticket.pk]),
        {"reply_text": "Вернулись к вопросу", "new_status": "in_progress", **INLINES},
    )

    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS
    assert TicketMessage.objects.get().text == "Вернулись к вопросу"


def test_admin_refuses_an_answer_to_a_finished_ticket(staff_client, user):
    ticket = TicketFactory(user=user, status=S.CLOSED)

    response = staff_client.post(
        reverse("admin:support_ticket_change", args=[ticket.pk]), {"reply_text": "Поздно", **INLINES}
    )

    assert response.status_code == 200  # the form comes back with the error
    assert not TicketMessage.objects.exists()


def test_admin_list_puts_waiting_tickets_first_and_filters_them(staff_client, staff_user, user):
    answered = ticket_create(user=user, subject="Отвеченное", text="?")
    ticket_message_add(ticket=answered, author=staff_user, text="Ответ", as_staff=True)
    waiting = ticket_create(user=user, subject="Ждущее", text="?")

    listing = staff_client.get(reverse("admin:support_ticket_changelist"))
    filtered = staff_client.get(reverse("admin:support_ticket_changelist") + "?answer=needed")

    assert [t.pk for t in listing.context["cl"].result_list] == [waiting.pk, answered.pk]
    assert 'class="ticket-waiting"' in listing.content.decode()
    assert [t.pk for t in filtered.context["cl"].result_list] == [waiting.pk]


# --- the appeal of a blocked person --------------------------------------------------------


def test_the_login_refusal_links_to_the_appeal_form(client, user, staff_user):
    from portal.tests.factories import USER_PASSWORD

    user_block(user=user, reason="Спам", by=staff_user)

    response = client.post("/accounts/login/", {"login": user.email, "password": USER_PASSWORD}, follow=True)

    assert f'href="{reverse("support:appeal")}"' in response.content.decode()


@pytest.mark.parametrize("registered", [True, False])
def test_the_appeal_answers_the_same_whoever_writes(client, staff_user, registered):
    email = "blocked@example.com" if registered else "nobody@example.com"
    if registered:
        blocked = UserFactory(email="blocked@example.com")
        user_block(user=blocked, reason="Спам", by=staff_user)

    response = client.post(reverse("support:appeal"), {"email": email, "text": "Меня заблокировали по ошибке"})

    assert response.status_code == 200
    assert "support/appeal_sent.html" in [t.name for t in response.templates]
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.contact_email) == (Ticket.Kind.APPEAL, email)
    assert (ticket.user is not None) is registered
    assert Notification.objects.filter(user=staff_user, kind="ticket_new").exists()


def test_appeal_pages_are_identical_for_registered_and_unknown_addresses(client, user):
    first = client.post(reverse("support:appeal"), {"email": user.email, "text": "Помогите"}).content
    second = client.post(reverse("support:appeal"), {"email": "ghost@example.com", "text": "Помогите"}).content

    def strip_csrf(html: bytes) -> str:
        import re

        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())

    assert strip_csrf(first) == strip_csrf(second)


def test_the_appeal_form_is_throttled_and_validates(client, settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "appeal": "2/hour"}
    settings.REST_FRAMEWORK = rest

    bad = client.post(reverse("support:appeal"), {"email": "not-an-email", "text": ""})
    ok = client.post(reverse("support:appeal"), {"email": "a@example.com", "text": "Текст"})
    refused = client.post(reverse("support:appeal"), {"email": "b@example.com", "text": "Текст"})

    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"email", "text"}
    assert ok.status_code == 200
    assert refused.status_code == 429
    assert Ticket.objects.count() == 1


def test_staff_answer_an_appeal_without_an_account_by_email(staff_user, django_capture_on_commit_callbacks):
    ticket = appeal_create(email="ghost@example.com", text="Не могу войти")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_message_add(ticket=ticket, author=staff_user, text="Напишите с адреса аккаунта", as_staff=True)

    [email] = [m for m in mail.outbox if m.to == ["ghost@example.com"]]
    assert "Напишите с адреса аккаунта" in email.body


def test_appeal_service_refuses_a_bad_email_and_an_empty_text():
    with pytest.raises(errors.ValidationError):
        appeal_create(email="nope", text="x")
    with pytest.raises(errors.ValidationError):
        appeal_create(email="a@example.com", text=" ")
    assert not Ticket.objects.exists()


# --- account deletion -------------------------------------------------------------------------


def test_account_deletion_erases_the_users_messages_and_images(user, staff_user, django_capture_on_commit_callbacks):
    ticket = ticket_create(user=user, subject="Личное", text="Мой адрес ...")
    mine = ticket_message_add(ticket=ticket, author=user, text="Мой телефон ...", attachment=png())
    answer = ticket_message_add(ticket=ticket, author=staff_user, text="Спасибо", as_staff=True)
    path = mine.attachment.name
    assert default_storage.exists(path)

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user, by=user)

    mine.refresh_from_db()
    answer.refresh_from_db()
    assert mine.text == "[удалено вместе с аккаунтом]" and not mine.attachment
    assert not default_storage.exists(path)
    assert answer.text == "Спасибо"  # the support team's words stay
