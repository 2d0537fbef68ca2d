import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.tests.factories import BookingFactory
from mailings.models import Notification
from portal import errors
from portal.tests.factories import UserFactory
from support.models import Ticket, TicketStatusChange
from support.services import ticket_allowed_statuses, ticket_change_status, ticket_create
from support.tests.factories import TICKET_PAGE_INLINES, TicketFactory

pytestmark = pytest.mark.django_db
S = Ticket.Status
INLINES = TICKET_PAGE_INLINES


# --- services --------------------------------------------------------------------------


def test_create_ticket_with_own_booking(user):
    booking = BookingFactory(user=user)

    ticket = ticket_create(user=user, subject="  Бронь  ", text="Перенесите, пожалуйста", booking=booking)

    assert (ticket.subject, ticket.status, ticket.booking) == ("Бронь", S.OPEN, booking)


def test_create_ticket_refuses_someone_elses_booking_and_empty_fields(user, other_user):
    with pytest.raises(errors.ValidationError):
        ticket_create(user=user, subject="x", text="y", booking=BookingFactory(user=other_user))
    with pytest.raises(errors.ValidationError):
        ticket_create(user=user, subject=" ", text="y")
    with pytest.raises(errors.ValidationError):
        ticket_create(user=user, subject="x", text="")
    assert not Ticket.objects.exists()


STAFF_ALLOWED = [
    (S.OPEN, S.IN_PROGRESS),
    (S.OPEN, S.RESOLVED),
    (S.OPEN, S.REJECTED),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.IN_PROGRESS, S.REJECTED),
    (S.IN_PROGRESS, S.OPEN),
    (S.RESOLVED, S.IN_PROGRESS),
    (S.REJECTED, S.IN_PROGRESS),
    (S.RESOLVED, S.CLOSED),
]
STAFF_REFUSED = [
    (S.OPEN, S.OPEN),
    (S.RESOLVED, S.REJECTED),
    (S.REJECTED, S.RESOLVED),
    (S.RESOLVED, S.OPEN),
    (S.CLOSED, S.OPEN),
    (S.CLOSED, S.IN_PROGRESS),
]


@pytest.mark.parametrize(("start", "target"), STAFF_ALLOWED)
def test_staff_allowed_transitions(staff_user, start, target):
    ticket = TicketFactory(status=start)

    change = ticket_change_status(ticket=ticket, status=target, by=staff_user, comment="Готово")

    ticket.refresh_from_db()
    assert ticket.status == target
    assert (change.from_status, change.to_status, change.changed_by, change.comment) == (
        start,
        target,
        staff_user,
        "Готово",
    )


@pytest.mark.parametrize(("start", "target"), STAFF_REFUSED)
def test_staff_refused_transitions_change_nothing(staff_user, start, target):
    ticket = TicketFactory(status=start)

    with pytest.raises(errors.Conflict) as exc:
        ticket_change_status(ticket=ticket, status=target, by=staff_user)

    assert exc.value.code == "ticket_transition_not_allowed"
    ticket.refresh_from_db()
    assert ticket.status == start
    assert not TicketStatusChange.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("start", [S.OPEN, S.IN_PROGRESS, S.RESOLVED, S.REJECTED])
def test_owner_may_close_own_ticket(user, start):
    ticket = TicketFactory(user=user, status=start)

    ticket_change_status(ticket=ticket, status=S.CLOSED, by=user)

    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED


@pytest.mark.parametrize("target", [S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.OPEN])
def test_owner_may_only_close(user, target):
    ticket = TicketFactory(user=user, status=S.IN_PROGRESS if target == S.OPEN else S.OPEN)

    with pytest.raises(errors.Conflict):
        ticket_change_status(ticket=ticket, status=target, by=user)


def test_another_user_cannot_touch_a_ticket(user, other_user):
    ticket = TicketFactory(user=user)

    with pytest.raises(errors.NotFound):
        ticket_change_status(ticket=ticket, status=S.CLOSED, by=other_user)
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN


def test_unknown_status_is_refused(staff_user):
    with pytest.raises(errors.ValidationError):
        ticket_change_status(ticket=TicketFactory(), status="deleted", by=staff_user)


def test_allowed_statuses_follow_the_table(user, staff_user):
    ticket = TicketFactory(user=user, status=S.RESOLVED)

    assert ticket_allowed_statuses(ticket=ticket, actor=user) == [S.CLOSED]
    assert ticket_allowed_statuses(ticket=ticket, actor=staff_user) == [S.IN_PROGRESS, S.CLOSED]


def test_every_change_is_recorded_and_notified(user, staff_user, django_capture_on_commit_callbacks):
    ticket = TicketFactory(user=user, subject="Нет доступа")

    with django_capture_on_commit_callbacks(execute=True):
        first = ticket_change_status(ticket=ticket, status=S.IN_PROGRESS, by=staff_user, comment="Смотрим")
        second = ticket_change_status(ticket=ticket, status=S.RESOLVED, by=staff_user, comment="Исправили")

    assert list(ticket.history.values_list("to_status", flat=True)) == [S.IN_PROGRESS, S.RESOLVED]
    notifications = Notification.objects.filter(user=user, kind="ticket_status").order_by("pk")
    assert [n.dedupe_key for n in notifications] == [
        f"ticket:{ticket.pk}:change:{first.pk}",
        f"ticket:{ticket.pk}:change:{second.pk}",
    ]
    last = notifications.last()
    assert "решено" in last.text  # the status label, in Russian
    assert "Исправили" in last.text
    assert f"/tickets/{ticket.pk}/" in last.text
    # delivered to the user (email is their only channel here)
    assert any("Исправили" in message.body for message in mail.outbox)


# --- API -------------------------------------------------------------------------------


def test_api_create_and_list_own_tickets(user_api, user, other_user):
    TicketFactory(user=other_user)
    booking = BookingFactory(user=user)

    response = user_api.post("/api/v1/tickets/", {"subject": "Бронь", "text": "Вопрос", "booking": booking.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["booking"], body["history"]) == ("open", booking.pk, [])
    listing = user_api.get("/api/v1/tickets/").json()
    assert [t["id"] for t in listing["results"]] == [body["id"]]


@pytest.mark.parametrize(
    "payload",
    [
        {"subject": "", "text": "x"},
        {"subject": "x"},
        {"subject": "x" * 201, "text": "y"},
        {"subject": "x", "text": " "},
    ],
)
def test_api_create_bad_input_is_400_and_creates_nothing(user_api, payload):
    response = user_api.post("/api/v1/tickets/", payload)

    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_api_create_with_someone_elses_booking_is_400(user_api, other_user):
    response = user_api.post(
        "/api/v1/tickets/", {"subject": "x", "text": "y", "booking": BookingFactory(user=other_user).pk}
    )

    assert response.status_code == 400
    assert "booking" in response.json()
    assert not Ticket.objects.exists()


def test_api_detail_with_history_and_isolation(user_api, user, other_user, staff_user):
    mine = TicketFactory(user=user)
    ticket_change_status(ticket=mine, status=S.IN_PROGRESS, by=staff_user, comment="Взяли")
    theirs = TicketFactory(user=other_user)

    response = user_api.get(f"/api/v1/tickets/{mine.pk}/")
    assert response.status_code == 200
    assert response.json()["history"][0]["comment"] == "Взяли"
    assert response.json()["history"][0]["by_staff"] is True

    assert user_api.get(f"/api/v1/tickets/{theirs.pk}/").status_code == 404


def test_api_tickets_need_login(api_client):
    assert api_client.get("/api/v1/tickets/").status_code == 401
    assert api_client.post("/api/v1/tickets/", {"subject": "x", "text": "y"}).status_code == 401


def test_api_list_query_count_is_constant(user_api, user, django_assert_max_num_queries):
    TicketFactory.create_batch(15, user=user)

    with django_assert_max_num_queries(6):
        assert user_api.get("/api/v1/tickets/").status_code == 200


# --- pages -----------------------------------------------------------------------------


def test_pages_new_list_detail_close(client, user):
    client.force_login(user)

    response = client.post("/tickets/new/", {"subject": "Не приходит письмо", "text": "Уже час жду"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/"
    assert "Не приходит письмо" in client.get("/tickets/").content.decode()
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200

    client.post(f"/tickets/{ticket.pk}/close/", {"comment": "Пришло"})

    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert "Пришло" in client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_page_form_errors_next_to_fields(client, user):
    client.force_login(user)

    response = client.post("/tickets/new/", {"subject": "", "text": ""})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"subject", "text"}
    assert not Ticket.objects.exists()


def test_pages_of_another_users_ticket_are_404(client, user, other_user):
    theirs = TicketFactory(user=other_user)
    client.force_login(user)

    assert client.get(f"/tickets/{theirs.pk}/").status_code == 404
    assert client.post(f"/tickets/{theirs.pk}/close/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.OPEN


def test_closing_twice_shows_a_message_not_an_error(client, user):
    ticket = TicketFactory(user=user, status=S.CLOSED)
    client.force_login(user)

    response = client.post(f"/tickets/{ticket.pk}/close/", follow=True)

    assert response.status_code == 200
    assert list(response.context["messages"])


def test_closing_twice_says_why_in_russian(client, user):
    ticket = TicketFactory(user=user, status=S.CLOSED)
    client.force_login(user)

    response = client.post(f"/tickets/{ticket.pk}/close/", follow=True, HTTP_ACCEPT_LANGUAGE="ru")

    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["Обращение нельзя перевести из статуса «закрыто» в статус «закрыто»."]


def test_ticket_pages_need_login(client):
    assert client.get("/tickets/").status_code == 302
    assert client.get("/tickets/new/").status_code == 302


# --- admin -----------------------------------------------------------------------------


def test_admin_changes_status_with_a_comment(staff_client, staff_user, user):
    ticket = TicketFactory(user=user)

    response = staff_client.post(
        f"/admin/support/ticket/{ticket.pk}/change/",
        {
            "new_status": "in_progress",
            "status_comment": "Разбираемся",
            **INLINES,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    change = ticket.history.get()
    assert (change.to_status, change.comment, change.changed_by) == ("in_progress", "Разбираемся", staff_user)
    assert Notification.objects.filter(user=user, kind="ticket_status").count() == 1


def test_admin_offers_only_allowed_statuses(staff_client, user):
    ticket = TicketFactory(user=user, status=S.RESOLVED)

    response = staff_client.post(
        f"/admin/support/ticket/{ticket.pk}/change/",
        {"new_status": "rejected", **INLINES},
    )

    assert response.status_code == 200  # the form comes back with the error
    ticket.refresh_from_db()
    assert ticket.status == S.RESOLVED


def test_admin_list_filter_and_bulk_actions(staff_client, user):
    open_ticket = TicketFactory(user=user)
    closed = TicketFactory(user=user, status=S.CLOSED)

    assert staff_client.get("/admin/support/ticket/?status__exact=open").status_code == 200
    response = staff_client.post(
        "/admin/support/ticket/", {"action": "mark_in_progress", "_selected_action": [open_ticket.pk, closed.pk]}
    )

    assert response.status_code == 302
    open_ticket.refresh_from_db()
    closed.refresh_from_db()
    assert (open_ticket.status, closed.status) == (S.IN_PROGRESS, S.CLOSED)


def test_admin_cannot_add_tickets(staff_client):
    assert staff_client.get("/admin/support/ticket/add/").status_code == 403


def test_admin_isolation_does_not_leak_between_users_in_notifications(staff_user):
    alice, bob = UserFactory(), UserFactory()
    ticket = TicketFactory(user=alice)

    ticket_change_status(ticket=ticket, status=S.REJECTED, by=staff_user)

    assert Notification.objects.get().user == alice
    assert not Notification.objects.filter(user=bob).exists()


def test_admin_search_by_text_and_number(staff_client, user):
    ticket = TicketFactory(user=user, subject="Сломался замок")

    assert "Сломался замок" in staff_client.get("/admin/support/ticket/?q=замок").content.decode()
    assert staff_client.get(f"/admin/support/ticket/?q={ticket.pk}").status_code == 200


def test_admin_change_page_query_count_does_not_grow_with_the_history(staff_client, user):
    def queries_for(history_length):
        ticket = TicketFactory(user=user)
        for _ in range(history_length):
            TicketStatusChange.objects.create(
                ticket=ticket, changed_by=UserFactory(is_staff=True), from_status=S.OPEN, to_status=S.IN_PROGRESS
            )
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(f"/admin/support/ticket/{ticket.pk}/change/").status_code == 200
        return len(captured)

    queries_for(1)  # warm per-process caches (content types, site)
    assert queries_for(8) == queries_for(1)
