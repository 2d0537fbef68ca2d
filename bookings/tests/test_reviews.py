"""Reviews: only attended bookings, once each; the owner answers once; staff hide with a reason;
the rating in the catalog; the review form on the booking page; the reminder the next day, once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from bookings import services
from bookings.models import Booking, Review
from bookings.tests.clock import NOW, at
from bookings.tests.factories import BookingFactory, ResourceFactory, open_every_day
from catalog.models import Organization
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from mailings.models import Notification
from portal import errors
from portal.services import user_block
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REVIEW_FORM = 'action="/bookings/%s/review/"'


def reviews_url(org_id):
    return f"/api/v1/organizations/{org_id}/reviews/"


def visit(resource, user, *, status=Booking.Status.COMPLETED, day=1):
    """A visit on 2 March 2026 (+ ``day`` days back) that ended at 11:00 Moscow time."""
    start = at(10, day=2) - timedelta(days=day - 1)
    return BookingFactory(
        resource=resource, user=user, starts_at=start, ends_at=start + timedelta(hours=1), status=status
    )


@pytest.fixture
def client_user():
    return UserFactory(first_name="Анна", last_name="Иванова")


@pytest.fixture
def attended(resource, client_user):
    return visit(resource, client_user)


@pytest.fixture
def client_api(client_user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(client_user)
    return api


# --- who may review ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Booking.Status.CHECKED_IN, Booking.Status.COMPLETED])
def test_the_client_reviews_an_attended_visit(client_api, resource, client_user, status):
    booking = visit(resource, client_user, status=status)
    response = client_api.post(
        reviews_url(resource.organization_id),
        {"booking": booking.pk, "rating": 4, "text": " Всё хорошо "},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rating"] == 4 and body["text"] == "Всё хорошо"
    assert body["author_name"] == "Анна И."
    assert body["reply"] is None and body["organization"] == resource.organization_id
    assert Review.objects.get().booking == booking


@pytest.mark.parametrize(
    "status",
    [Booking.Status.PENDING, Booking.Status.CONFIRMED, Booking.Status.CANCELLED, Booking.Status.NO_SHOW],
)
def test_a_visit_that_did_not_happen_cannot_be_reviewed(client_api, resource, client_user, status):
    booking = visit(resource, client_user, status=status)
    response = client_api.post(
        reviews_url(resource.organization_id), {"booking": booking.pk, "rating": 5}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_attended"
    assert not Review.objects.exists()


def test_someone_elses_booking_cannot_be_reviewed(client_api, resource):
    booking = visit(resource, UserFactory())
    response = client_api.post(
        reviews_url(resource.organization_id), {"booking": booking.pk, "rating": 5}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_attended")


def test_a_participant_is_not_the_booker(client_api, resource, client_user):
    booking = visit(resource, UserFactory())
    booking.participant_links.create(user=client_user)
    response = client_api.post(
        reviews_url(resource.organization_id), {"booking": booking.pk, "rating": 5}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_attended")


def test_a_booking_at_another_organization_or_unknown_is_not_attended_here(client_api, resource, client_user, moscow):
    elsewhere = OrganizationFactory(city=moscow)
    booking = visit(ResourceFactory(organization=elsewhere), client_user)
    for booking_id in (booking.pk, 999_999):
        response = client_api.post(
            reviews_url(resource.organization_id), {"booking": booking_id, "rating": 5}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (403, "not_attended")


def test_a_booking_is_reviewed_once(client_api, attended, resource):
    first = client_api.post(reviews_url(resource.organization_id), {"booking": attended.pk, "rating": 5}, format="json")
    second = client_api.post(
        reviews_url(resource.organization_id), {"booking": attended.pk, "rating": 1}, format="json"
    )
    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "already_reviewed")
    assert Review.objects.get().rating == 5


def test_two_visits_make_two_reviews(client_api, resource, client_user):
    for day, rating in ((1, 5), (2, 4)):
        booking = visit(resource, client_user, day=day)
        response = client_api.post(
            reviews_url(resource.organization_id), {"booking": booking.pk, "rating": rating}, format="json"
        )
        assert response.status_code == 201
    organization = Organization.objects.get(pk=resource.organization_id)
    assert (str(organization.rating), organization.reviews_count) == ("4.50", 2)


@pytest.mark.parametrize(
    "payload",
    [{"rating": 0}, {"rating": 6}, {"rating": "пять"}, {"rating": 5, "text": "х" * 2001}, {"rating": None}, {}],
)
def test_bad_input_is_400_with_the_field(client_api, attended, resource, payload):
    response = client_api.post(
        reviews_url(resource.organization_id), {"booking": attended.pk, **payload}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) & {"rating", "text"}
    assert not Review.objects.exists()


def test_anonymous_blocked_and_invisible_organization(api_client, client_api, attended, resource, client_user):
    assert (
        api_client.post(reviews_url(resource.organization_id), {"booking": attended.pk, "rating": 5}).status_code == 401
    )
    hidden = OrganizationFactory(status="hidden")
    assert client_api.get(reviews_url(hidden.pk)).status_code == 404
    assert client_api.post(reviews_url(hidden.pk), {"booking": attended.pk, "rating": 5}).status_code == 404
    user_block(user=client_user, reason="спам", by=None)
    response = client_api.post(reviews_url(resource.organization_id), {"booking": attended.pk, "rating": 5})
    assert (response.status_code, response.json()["code"]) == (403, "user_blocked")
    assert not Review.objects.exists()


def test_the_service_refuses_a_blocked_author_too(attended, client_user, resource):
    client_user.is_blocked = True
    with pytest.raises(errors.UserBlocked):
        services.review_create(user=client_user, organization=resource.organization_id, booking=attended, rating=5)


# --- the rating in the catalog ---------------------------------------------------------------


def test_organization_json_has_rating_with_two_decimals_and_count(api_client, resource, settings):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    org_id = resource.organization_id
    detail = api_client.get(f"/api/v1/organizations/{org_id}/").json()
    assert (detail["rating"], detail["reviews_count"]) == (None, 0)
    for rating in (5, 4, 4):
        booking = visit(resource, UserFactory())
        services.review_create(user=booking.user, organization=org_id, booking=booking, rating=rating)
    detail = api_client.get(f"/api/v1/organizations/{org_id}/").json()
    assert (detail["rating"], detail["reviews_count"]) == ("4.33", 3)
    card = api_client.get("/api/v1/organizations/").json()["results"][0]
    assert (card["rating"], card["reviews_count"]) == ("4.33", 3)


def test_ordering_by_rating_puts_unrated_last(api_client, moscow, settings):
    settings.CATALOG_LIST_CACHE_SECONDS = 0
    unrated = OrganizationFactory(name="Альфа", city=moscow)
    for name, rating in (("Бета", 3), ("Гамма", 5), ("Дельта", 4)):
        resource = ResourceFactory(organization=OrganizationFactory(name=name, city=moscow))
        booking = visit(resource, UserFactory())
        services.review_create(user=booking.user, organization=resource.organization_id, booking=booking, rating=rating)
    names = [o["name"] for o in api_client.get("/api/v1/organizations/", {"ordering": "-rating"}).json()["results"]]
    assert names == ["Гамма", "Дельта", "Бета", unrated.name]
    html = api_client.get(reverse("catalog:list"), {"ordering": "-rating"}).content.decode()
    assert html.index("Гамма") < html.index("Дельта") < html.index("Бета") < html.index("Альфа")


def test_cached_list_shows_a_new_rating(api_client, attended, resource, client_user, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "reviews"}}
    assert api_client.get("/api/v1/organizations/").json()["results"][0]["reviews_count"] == 0
    services.review_create(user=client_user, organization=resource.organization_id, booking=attended, rating=2)
    assert api_client.get("/api/v1/organizations/").json()["results"][0]["rating"] == "2.00"


def test_rating_set_refuses_inconsistent_figures(organization):
    from catalog.services import organization_rating_set

    with pytest.raises(errors.ValidationError):
        organization_rating_set(organization=organization, rating=None, reviews_count=2)
    with pytest.raises(errors.ValidationError):
        organization_rating_set(organization=organization, rating=4, reviews_count=0)


# --- listing ------------------------------------------------------------------------------------


def test_list_is_public_newest_first_without_hidden_ones(api_client, resource, staff_user):
    reviews = []
    for day in (3, 2, 1):
        booking = visit(resource, UserFactory(), day=day)
        with time_machine.travel(NOW + timedelta(days=4 - day), tick=False):
            reviews.append(
                services.review_create(
                    user=booking.user, organization=resource.organization_id, booking=booking, rating=5
                )
            )
    services.review_hide(review=reviews[1], by=staff_user, reason="оскорбления")
    body = api_client.get(reviews_url(resource.organization_id)).json()
    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [reviews[2].pk, reviews[0].pk]


# --- the owner answers ---------------------------------------------------------------------------


@pytest.fixture
def review(attended, client_user, resource):
    return services.review_create(
        user=client_user, organization=resource.organization_id, booking=attended, rating=3, text="Долго ждали"
    )


def test_owner_is_notified_of_a_new_review(review, organization):
    notice = Notification.objects.get(kind="review_created")
    assert notice.user == organization.owner
    assert "3" in notice.subject and "Долго ждали" in notice.text
    assert f"/bookings/organization/{organization.pk}/reviews/" in notice.text


def test_owner_answers_once(review, organization, client_user):
    from rest_framework.test import APIClient

    owner = APIClient()
    owner.force_login(organization.owner)
    url = f"/api/v1/reviews/{review.pk}/reply/"
    first = owner.post(url, {"text": "Простите, исправимся"}, format="json")
    assert first.status_code == 200
    assert first.json()["reply"]["text"] == "Простите, исправимся"
    second = owner.post(url, {"text": "Ещё раз"}, format="json")
    assert (second.status_code, second.json()["code"]) == (409, "already_replied")
    assert Notification.objects.get(kind="review_replied").user == client_user


def test_only_the_owner_answers(review, client_api, api_client, staff_user):
    url = f"/api/v1/reviews/{review.pk}/reply/"
    response = client_api.post(url, {"text": "Сам себе"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_owner")
    assert api_client.post(url, {"text": "Аноним"}, format="json").status_code == 401
    from rest_framework.test import APIClient

    staff = APIClient()
    staff.force_login(staff_user)
    assert staff.post(url, {"text": "Модератор"}, format="json").status_code == 403
    review.refresh_from_db()
    assert review.reply == ""


def test_answer_needs_text_and_a_visible_review(review, organization, staff_user):
    from rest_framework.test import APIClient

    owner = APIClient()
    owner.force_login(organization.owner)
    url = f"/api/v1/reviews/{review.pk}/reply/"
    assert owner.post(url, {"text": "   "}, format="json").status_code == 400
    assert owner.post("/api/v1/reviews/999999/reply/", {"text": "Да"}, format="json").status_code == 404
    services.review_hide(review=review, by=staff_user, reason="спам")
    assert owner.post(url, {"text": "Да"}, format="json").status_code == 404


def test_owner_answers_on_the_reviews_page(client, review, organization):
    client.force_login(organization.owner)
    page = client.get(reverse("bookings:organization_reviews", args=[organization.pk])).content.decode()
    assert "Долго ждали" in page and f'action="/bookings/reviews/{review.pk}/reply/"' in page
    response = client.post(reverse("bookings:review_reply", args=[review.pk]), {"text": "Спасибо!"}, follow=True)
    html = response.content.decode()
    assert "Спасибо!" in html and f'action="/bookings/reviews/{review.pk}/reply/"' not in html


# --- staff hide -----------------------------------------------------------------------------------


def test_staff_hide_in_the_admin_with_a_reason(staff_client, review, organization):
    url = reverse("admin:bookings_review_changelist")
    # without a reason the form comes back and nothing changes
    page = staff_client.post(url, {"action": "hide_reviews", ACTION_CHECKBOX_NAME: [review.pk], "apply": "1"})
    assert page.status_code == 200 and b'name="reason"' in page.content
    review.refresh_from_db()
    assert not review.is_hidden
    staff_client.post(
        url, {"action": "hide_reviews", ACTION_CHECKBOX_NAME: [review.pk], "apply": "1", "reason": "Оскорбления"}
    )
    review.refresh_from_db()
    organization.refresh_from_db()
    assert review.is_hidden and review.hidden_reason == "Оскорбления" and review.hidden_by is not None
    assert (organization.rating, organization.reviews_count) == (None, 0)
    staff_client.post(url, {"action": "unhide_reviews", ACTION_CHECKBOX_NAME: [review.pk]})
    organization.refresh_from_db()
    assert (str(organization.rating), organization.reviews_count) == ("3.00", 1)


def test_only_staff_hide_and_a_reason_is_required(review, organization, staff_user):
    with pytest.raises(errors.PermissionDenied):
        services.review_hide(review=review, by=organization.owner, reason="не нравится")
    with pytest.raises(errors.ValidationError):
        services.review_hide(review=review, by=staff_user, reason="  ")


def test_admin_cannot_add_or_edit_review_content(staff_client, review):
    assert staff_client.get(reverse("admin:bookings_review_add")).status_code == 403
    page = staff_client.get(reverse("admin:bookings_review_change", args=[review.pk])).content.decode()
    assert 'name="text"' not in page


# --- the booking page -----------------------------------------------------------------------------


def test_a_client_books_is_checked_in_and_reviews_through_the_pages(client, moscow):
    # given an organization that takes bookings, and nothing else set up
    owner = UserFactory()
    organization = OrganizationFactory(city=moscow, owner=owner, name="Кресло и ножницы")
    open_every_day(organization)
    resource = ResourceFactory(organization=organization)
    haircut = ServiceFactory(organization=organization, name="Стрижка", duration_minutes=60)
    guest = UserFactory(first_name="Пётр")
    # when the client books on the booking page
    client.force_login(guest)
    with time_machine.travel(NOW, tick=False):
        starts_at = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
        response = client.post(
            reverse("bookings:confirm"),
            {"resource": resource.pk, "service": haircut.pk, "date": "2026-03-02", "time": "10:00"},
        )
        booking = Booking.objects.get(user=guest)
        assert response.url == reverse("bookings:detail", args=[booking.pk])
        assert REVIEW_FORM % booking.pk not in client.get(response.url).content.decode()
    # and the owner checks the visit in from the bookings list
    client.force_login(owner)
    with time_machine.travel(starts_at + timedelta(minutes=5), tick=False):
        client.post(reverse("bookings:owner_check_in", args=[booking.pk]))
    # then the client's booking page offers the review form
    client.force_login(guest)
    with time_machine.travel(starts_at + timedelta(hours=2), tick=False):
        page = client.get(reverse("bookings:detail", args=[booking.pk])).content.decode()
        assert REVIEW_FORM % booking.pk in page
        bad = client.post(reverse("bookings:review", args=[booking.pk]), {"text": "без оценки"})
        assert bad.status_code == 400 and 'id="rating-errors"' in bad.content.decode()
        done = client.post(
            reverse("bookings:review", args=[booking.pk]), {"rating": "5", "text": "Отлично"}, follow=True
        )
    html = done.content.decode()
    assert 'id="my-review-title"' in html and "Отлично" in html and REVIEW_FORM % booking.pk not in html
    # and the organization's page shows the rating and the review
    detail = client.get(reverse("catalog:detail", args=[organization.pk])).content.decode()
    assert "Отлично" in detail and 'data-testid="rating-summary"' in detail
    assert Notification.objects.filter(kind="review_created", user=owner).exists()


def test_no_review_form_for_someone_else_or_before_the_visit(client, resource, client_user):
    upcoming = BookingFactory(resource=resource, user=client_user)
    client.force_login(client_user)
    assert REVIEW_FORM % upcoming.pk not in client.get(reverse("bookings:detail", args=[upcoming.pk])).content.decode()
    owner = resource.organization.owner
    attended = visit(resource, client_user)
    client.force_login(owner)
    assert REVIEW_FORM % attended.pk not in client.get(reverse("bookings:detail", args=[attended.pk])).content.decode()
    response = client.post(reverse("bookings:review", args=[attended.pk]), {"rating": "5"}, follow=True)
    assert not Review.objects.exists()
    assert "alert-danger" in response.content.decode()


# --- the reminder the next day ---------------------------------------------------------------------


def test_reminder_goes_the_next_day_from_ten_once(attended, client_user):
    # the visit ended on 2 March at 11:00 in Moscow
    with time_machine.travel(at(18, day=2), tick=False):
        assert services.review_reminders_send() == 0  # the same day
    with time_machine.travel(at(9, 59, day=3), tick=False):
        assert services.review_reminders_send() == 0  # the next day, too early
    with time_machine.travel(at(10, 20, day=3), tick=False):
        assert services.review_reminders_send() == 1
        assert services.review_reminders_send() == 0  # a second beat or a retry
    with time_machine.travel(at(11, day=4), tick=False):
        assert services.review_reminders_send() == 0
    notice = Notification.objects.get(kind="review_reminder")
    assert notice.user == client_user
    assert f"/bookings/{attended.pk}/" in notice.text


def test_no_reminder_after_a_review_or_for_a_visit_that_did_not_happen(attended, client_user, resource):
    services.review_create(user=client_user, organization=resource.organization_id, booking=attended, rating=5)
    visit(resource, UserFactory(), status=Booking.Status.NO_SHOW)
    visit(resource, UserFactory(), status=Booking.Status.CANCELLED)
    with time_machine.travel(at(12, day=3), tick=False):
        assert services.review_reminders_send() == 0
    assert not Notification.objects.filter(kind="review_reminder").exists()


def test_old_visits_get_no_reminder(resource, client_user):
    visit(resource, client_user, day=10)
    with time_machine.travel(at(12, day=3), tick=False):
        assert services.review_reminders_send() == 0


def test_reminder_follows_the_city_zone(client_user):
    novosibirsk = CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")
    resource = ResourceFactory(organization=OrganizationFactory(city=novosibirsk))
    zone = ZoneInfo("Asia/Novosibirsk")
    start = datetime(2026, 3, 2, 20, 0, tzinfo=zone)  # 16:00 in Moscow
    BookingFactory(
        resource=resource, user=client_user, starts_at=start, ends_at=start + timedelta(hours=1), status="completed"
    )
    # 3 March 09:00 in Novosibirsk is 05:00 in Moscow: too early there
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=zone), tick=False):
        assert services.review_reminders_send() == 0
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=zone), tick=False):
        assert services.review_reminders_send() == 1


def test_the_beat_task_is_scheduled_and_runs(attended):
    from django_celery_beat.models import PeriodicTask

    from bookings.tasks import send_review_reminders

    assert PeriodicTask.objects.filter(task="bookings.tasks.send_review_reminders").exists()
    with time_machine.travel(at(12, day=3), tick=False):
        assert send_review_reminders.delay().get() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reviews_all_count_in_the_rating():
    import threading

    from django.db import connection

    organization = OrganizationFactory()
    resource = ResourceFactory(organization=organization)
    bookings = [visit(resource, UserFactory()) for _ in range(8)]
    barrier = threading.Barrier(len(bookings))

    def write(booking, rating):
        try:
            barrier.wait()
            services.review_create(user=booking.user, organization=organization.pk, booking=booking, rating=rating)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(b, 1 + i % 5)) for i, b in enumerate(bookings)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    organization.refresh_from_db()
    assert organization.reviews_count == 8
    assert str(organization.rating) == "2.63"  # 21 / 8 = 2.625, rounded half up
