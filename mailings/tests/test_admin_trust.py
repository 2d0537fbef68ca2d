"""What staff see before a mailing goes out: the preview with its media and buttons, the warnings about
what a channel cannot carry, a cancel that asks first, and a test send carrying the media everywhere."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mailings.admin import delivery_warnings
from mailings.models import BotSubscriber, Mailing
from mailings.services import mailing_create, mailing_send_test, mailings_dispatch_due
from mailings.tests.factories import BotSubscriberFactory
from portal.tests.images import image_bytes

pytestmark = pytest.mark.django_db


def make(channels=("telegram",), media=None, text="<b>Скидки</b> недели", **extra) -> Mailing:
    return mailing_create(
        name="Акция",
        text=text,
        send_at=timezone.now() + timedelta(hours=1),
        audience="subscribers",
        channels=list(channels),
        buttons=[("Открыть", "https://citydesk.example/")],
        media=media,
        **extra,
    )


def photo():
    return SimpleUploadedFile("offer.png", image_bytes(size=(40, 30)), content_type="image/png")


def gif():
    return SimpleUploadedFile("dance.gif", b"GIF89a" + b"\x00" * 64, content_type="image/gif")


def video(padding: int = 64):
    return SimpleUploadedFile("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * padding, content_type="video/mp4")


def large_video():
    """Past the 10 MB an email attaches."""
    return video(padding=10 * 1024 * 1024)


def change_page(client, mailing) -> str:
    return client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).content.decode()


# --- preview ----------------------------------------------------------------------------


def test_the_preview_shows_the_photo_itself_and_the_buttons(staff_client):
    mailing = make(media=photo())

    html = change_page(staff_client, mailing)
    preview = html.split('id="mailing-preview-title"', 1)[1].split("</section>", 1)[0]

    assert f'<img src="{mailing.media.url}"' in preview
    assert mailing.media.name not in preview.replace(mailing.media.url, "")  # the image, not its file path
    assert '<a href="https://citydesk.example/" rel="noopener noreferrer">Открыть</a>' in html


def test_the_preview_plays_a_video(staff_client):
    mailing = make(media=video())

    assert f'<video src="{mailing.media.url}"' in change_page(staff_client, mailing)


def test_help_text_lists_every_allowed_tag(staff_client):
    html = staff_client.get(reverse("admin:mailings_mailing_add")).content.decode()

    assert "&lt;span class=&quot;tg-spoiler&quot;&gt;" in html or '&lt;span class="tg-spoiler"&gt;' in html
    assert "blockquote" in html and "tg-emoji" in html
    assert "GIF" in html  # the media help


# --- what a channel cannot carry, said before sending -------------------------------------


def test_vk_with_a_video_is_warned_about_before_sending(staff_client):
    mailing = make(channels=("telegram", "vk"), media=video())

    warnings = delivery_warnings(mailing)
    html = change_page(staff_client, mailing)

    assert any("VK" in w and "video.save" in w for w in warnings)
    assert "video.save" in html
    assert 'class="mailing-warnings"' in html


def test_warnings_come_with_the_save_and_the_schedule(staff_client):
    from mailings.tests.test_admin import add_form

    response = staff_client.post(
        reverse("admin:mailings_mailing_add"), add_form(channels=["vk"], media=video()), follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("video.save" in m for m in shown), shown

    mailing = Mailing.objects.get()
    response = staff_client.post(reverse("admin:mailings_mailing_schedule", args=[mailing.pk]), follow=True)
    assert any("video.save" in str(m) for m in response.context["messages"])


@pytest.mark.parametrize(
    ("channels", "media", "expected"),
    [
        (("telegram",), video, []),
        (("vk",), photo, ["formatting"]),
        (("vk",), gif, ["document", "formatting"]),
        (("vk",), video, ["video.save", "formatting"]),
        (("email",), None, ["formatting"]),
        (("email",), photo, ["formatting"]),
        (("email",), large_video, ["larger than 10 MB", "formatting"]),
    ],
)
def test_warnings_per_channel(channels, media, expected, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        warnings = delivery_warnings(make(channels=channels, media=media() if media else None))

    assert len(warnings) == len(expected), warnings
    for word, warning in zip(expected, warnings, strict=True):
        assert word in warning


def test_plain_text_to_vk_has_no_formatting_warning():
    assert delivery_warnings(make(channels=("vk",), text="Просто текст")) == []


# --- cancel asks first ---------------------------------------------------------------------


def test_cancel_asks_for_a_confirmation_then_cancels(staff_client):
    mailing = make()
    url = reverse("admin:mailings_mailing_cancel", args=[mailing.pk])

    assert f'href="{url}"' in change_page(staff_client, mailing)
    confirmation = staff_client.get(url)
    mailing.refresh_from_db()
    assert confirmation.status_code == 200 and mailing.status == "scheduled"  # asking cancels nothing
    assert 'class="button mailing-cancel"' in confirmation.content.decode()

    staff_client.post(url)

    mailing.refresh_from_db()
    assert mailing.status == "cancelled"


# --- the test send carries the media on every channel --------------------------------------


def test_test_send_carries_the_photo_on_telegram_vk_and_email(fake_telegram, fake_vk, staff_user, mailoutbox):
    BotSubscriberFactory(chat_id="4242", user=staff_user)
    BotSubscriberFactory(channel="vk", chat_id="777", user=staff_user)
    mailing = make(channels=("telegram", "vk", "email"), media=photo())

    assert mailing_send_test(mailing=mailing, user=staff_user) == ["telegram", "vk", "email"]

    [(method, _params)] = fake_telegram.messages_to("4242")
    assert method == "sendPhoto"
    [vk_call] = fake_vk.send_calls()
    assert vk_call["attachment"].startswith("photo-77_")
    [email] = mailoutbox
    assert [name for name, _content, _type in email.attachments] == [mailing.media.name.rsplit("/", 1)[-1]]


def test_a_gif_goes_to_vk_as_a_document(fake_vk, staff_user):
    BotSubscriberFactory(channel="vk", chat_id="777", user=staff_user)
    for n in range(3):
        BotSubscriberFactory(channel="vk", chat_id=str(900 + n))
    mailing = make(channels=("vk",), media=gif())

    mailing_send_test(mailing=mailing, user=staff_user)
    with __import__("time_machine").travel(mailing.send_at + timedelta(seconds=1), tick=True):
        mailings_dispatch_due()

    calls = fake_vk.send_calls()
    assert all(call["attachment"].startswith("doc-77_") for call in calls)
    assert fake_vk.uploads == 1  # uploaded once, then reused by the mailing
    assert any(method == "docs.save" for method, _params in fake_vk.calls)


def test_a_video_is_left_out_on_vk_and_the_text_still_goes(fake_vk, staff_user):
    BotSubscriberFactory(channel="vk", chat_id="777", user=staff_user)
    mailing = make(channels=("vk",), media=video())

    mailing_send_test(mailing=mailing, user=staff_user)

    [call] = fake_vk.send_calls()
    assert "attachment" not in call and call["message"] == "Скидки недели"
    assert fake_vk.uploads == 0
    assert BotSubscriber.objects.get(chat_id="777").is_active
