"""The mailing admin: build in Moscow time, preview, test send, schedule, progress, cancel."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mailings.models import Delivery, Mailing
from mailings.services import mailing_create
from mailings.tests.factories import BotSubscriberFactory

pytestmark = pytest.mark.django_db


def add_form(**overrides):
    data = {
        "name": "Акция",
        "text": "<b>Скидка</b> 20%",
        "send_at_0": "2030-03-01",
        "send_at_1": "10:00:00",
        "audience": "subscribers",
        "channels": ["telegram", "vk"],
        "buttons-TOTAL_FORMS": "2",
        "buttons-INITIAL_FORMS": "0",
        "buttons-MIN_NUM_FORMS": "0",
        "buttons-MAX_NUM_FORMS": "1000",
        "buttons-0-text": "Второй",
        "buttons-0-url": "https://b.example",
        "buttons-0-position": "2",
        "buttons-1-text": "Первый",
        "buttons-1-url": "https://a.example",
        "buttons-1-position": "1",
    }
    data.update(overrides)
    return data


def test_send_at_is_entered_in_moscow_time_and_buttons_keep_their_order(staff_client):
    response = staff_client.post(reverse("admin:mailings_mailing_add"), add_form())

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    mailing = Mailing.objects.get()
    assert mailing.send_at == datetime(2030, 3, 1, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
    assert mailing.status == Mailing.Status.DRAFT
    assert mailing.channels == ["telegram", "vk"]
    assert list(mailing.buttons.order_by("position").values_list("text", flat=True)) == ["Первый", "Второй"]

    page = staff_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk]))
    body = page.content.decode()
    assert 'value="10:00:00"' in body
    assert "<b>Скидка</b> 20%" in body  # the preview renders the HTML
    assert body.index("https://a.example") < body.index("https://b.example")


def test_bad_html_and_bad_button_url_are_shown_next_to_the_fields(staff_client):
    response = staff_client.post(
        reverse("admin:mailings_mailing_add"), add_form(text="<div>x</div>", **{"buttons-0-url": "ftp://x"})
    )

    assert response.status_code == 200
    assert "text" in response.context["adminform"].form.errors
    assert not Mailing.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (lambda: {"audience": "city"}, "city"),
        (lambda: {"media": SimpleUploadedFile("notes.txt", b"plain text", content_type="text/plain")}, "media"),
    ],
)
def test_the_services_rules_are_shown_next_to_their_field_and_nothing_is_saved(staff_client, overrides, field):
    response = staff_client.post(reverse("admin:mailings_mailing_add"), add_form(**overrides()))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    assert not Mailing.objects.exists()


def test_a_valid_photo_is_saved_with_its_media_type(staff_client):
    photo = SimpleUploadedFile("offer.jpg", b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")
    response = staff_client.post(reverse("admin:mailings_mailing_add"), add_form(media=photo))

    assert response.status_code == 302
    assert Mailing.objects.get().media_type == "photo"


def test_schedule_and_cancel_from_the_change_page(staff_client):
    staff_client.post(reverse("admin:mailings_mailing_add"), add_form())
    mailing = Mailing.objects.get()

    staff_client.post(reverse("admin:mailings_mailing_schedule", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == "scheduled"

    staff_client.post(reverse("admin:mailings_mailing_cancel", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == "cancelled"

    response = staff_client.post(reverse("admin:mailings_mailing_cancel", args=[mailing.pk]), follow=True)
    assert "no longer" in response.content.decode() or "больше нельзя" in response.content.decode()


def test_send_test_to_me(staff_client, staff_user, fake_telegram):
    BotSubscriberFactory(chat_id="4242", user=staff_user)
    mailing = mailing_create(
        name="T",
        text="<i>тест</i>",
        send_at=timezone.now() + timedelta(hours=1),
        audience="users",
        channels=["telegram"],
    )

    staff_client.post(reverse("admin:mailings_mailing_send_test", args=[mailing.pk]))

    [(_m, params)] = fake_telegram.messages_to("4242")
    assert params["text"] == "<i>тест</i>"


def test_progress_shows_counts_failures_and_refreshes_while_sending(staff_client):
    mailing = mailing_create(
        name="P", text="x", send_at=timezone.now() + timedelta(hours=1), audience="users", channels=["telegram"]
    )
    Mailing.objects.filter(pk=mailing.pk).update(status="sending", started_at=timezone.now() - timedelta(seconds=10))
    Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key="tg:1", status="sent")
    Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key="tg:2", status="failed", error="boom!")
    Delivery.objects.create(mailing=mailing, channel="telegram", recipient_key="tg:3")

    response = staff_client.get(reverse("admin:mailings_mailing_progress", args=[mailing.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in body
    assert 'value="67"' in body
    assert "boom!" in body
    assert staff_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).status_code == 200


def test_the_admin_pages_need_staff(client, user):
    client.force_login(user)
    mailing = mailing_create(
        name="P", text="x", send_at=timezone.now() + timedelta(hours=1), audience="users", channels=["telegram"]
    )

    response = client.post(reverse("admin:mailings_mailing_cancel", args=[mailing.pk]))

    assert response.status_code == 302 and "/login/" in response["Location"]
    mailing.refresh_from_db()
    assert mailing.status == "scheduled"


def test_a_sending_time_in_the_past_is_refused_next_to_the_field(staff_client):
    # The admin saved mailings directly and skipped mailing_create's "not in the past" rule.
    response = staff_client.post(
        reverse("admin:mailings_mailing_add"), add_form(send_at_0="2020-03-01", send_at_1="10:00:00")
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["send_at"]
    assert not Mailing.objects.exists()


def test_editing_goes_through_the_draft_service_and_stops_once_sending(staff_client):
    staff_client.post(reverse("admin:mailings_mailing_add"), add_form())
    mailing = Mailing.objects.get()
    url = reverse("admin:mailings_mailing_change", args=[mailing.pk])
    ids = {f"buttons-{i}-id": b.pk for i, b in enumerate(mailing.buttons.order_by("position").reverse())}
    edit = add_form(name="Акция 2", **{"buttons-INITIAL_FORMS": "2", **ids, "buttons-1-DELETE": "on"})

    response = staff_client.post(url, edit)

    assert response.status_code == 302
    mailing.refresh_from_db()
    assert mailing.name == "Акция 2" and mailing.status == Mailing.Status.DRAFT
    assert list(mailing.buttons.values_list("text", "position")) == [("Второй", 0)]

    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    from mailings.drafts import mailing_draft_save
    from portal.errors import Conflict

    with pytest.raises(Conflict):
        mailing_draft_save(
            mailing=mailing, name="x", text="y", send_at=timezone.now() + timedelta(days=1),
            audience="subscribers", channels=["telegram"],
        )  # fmt: skip
