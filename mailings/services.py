"""Transactional notifications: one ``notify`` for every feature.

notify() records a Notification under a unique dedupe key (a second call with
the same key does nothing), renders its text from templates now, and hands the
delivery to Celery after the surrounding transaction commits.
"""

import logging
import os
import smtplib
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mailings.channels import DeliveryError, PermanentDeliveryError, channels_for_user
from mailings.channels.base import Message
from mailings.models import Notification
from portal.models import SecurityEvent
from portal.services import security_event_record

logger = logging.getLogger(__name__)


def _render(kind: str, context: dict) -> tuple[str, str, str | None]:
    """Render ``notifications/<kind>/subject.txt``, ``body.txt`` and optional ``body.html``."""

    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"notifications/{kind}/subject.txt", context).strip()
        text = render_to_string(f"notifications/{kind}/body.txt", context).strip()
        try:
            html = render_to_string(f"notifications/{kind}/body.html", context).strip()
        except TemplateDoesNotExist:
            html = None
    return " ".join(subject.split()), text, html


def notify(*, user, kind: str, context: dict | None = None, dedupe_key: str) -> Notification | None:
    """Tell ``user`` something once.

    ``kind`` names the templates under ``notifications/<kind>/``; ``context`` must be
    JSON-serialisable (it is stored). Returns the new Notification, or None when
    one with ``dedupe_key`` already exists. An inactive user (a deleted
    account) is told nothing: None, and nothing is recorded.
    """

    if not user.is_active:
        return None
    context = dict(context or {})
    render_context = {**context, "user": user, "SITE_URL": settings.SITE_URL}
    subject, text, _html = _render(kind, render_context)
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={"user": user, "kind": kind, "context": context, "subject": subject[:200], "text": text},
        )
    if not created:
        return None

    from mailings.tasks import deliver_notification

    transaction.on_commit(lambda: deliver_notification.delay(notification.pk))
    return notification


def notify_staff(*, kind: str, context: dict | None = None, dedupe_key: str) -> list[Notification]:
    """notify() every active staff user, each under ``<dedupe_key>:staff:<id>``."""
    from portal.models import User

    sent = []
    for staff in User.objects.active().filter(is_staff=True).order_by("pk"):
        notification = notify(user=staff, kind=kind, context=context, dedupe_key=f"{dedupe_key}:staff:{staff.pk}")
        if notification:
            sent.append(notification)
    return sent


def notification_deliver(*, notification_id: int) -> Notification:
    """Send a pending notification through the user's best channel.

    The row lock makes two workers never send the same notification. A
    permanent failure on one channel falls through to the next; a temporary one
    is re-raised (after recording it) so the task retries later.
    """
    retry_error: DeliveryError | None = None
    with transaction.atomic():
        notification = Notification.objects.select_for_update().select_related("user").get(pk=notification_id)
        if notification.status != Notification.Status.PENDING:
            return notification
        if not notification.user.is_active:  # deleted (or deactivated) since it was queued
            notification.status = Notification.Status.SKIPPED
            notification.error = "inactive user"
            notification.save(update_fields=["status", "error"])
            return notification
        html = None
        try:
            html = _render(
                notification.kind,
                {**notification.context, "user": notification.user, "SITE_URL": settings.SITE_URL},
            )[2]
        except TemplateDoesNotExist:
            pass
        message = Message(subject=notification.subject, text=notification.text, html=html)
        notification.attempts += 1
        errors = []
        for channel, address in channels_for_user(notification.user):
            notification.channel = channel.name
            try:
                channel.send(address=address, message=message)
            except PermanentDeliveryError as exc:
                errors.append(f"{channel.name}: {exc}")
                continue
            except DeliveryError as exc:
                errors.append(f"{channel.name}: {exc}")
                retry_error = exc
                break
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
            break
        else:
            notification.status = Notification.Status.FAILED
        notification.error = "\n".join(errors)
        notification.save(update_fields=["status", "sent_at", "channel", "attempts", "error"])
    if retry_error is not None:
        raise retry_error
    return notification


# --- Bot subscribers --------------------------------------------------------


def subscriber_subscribe(
    *, channel: str, chat_id, username: str = "", first_name: str = "", language_code: str = "", user=None
):
    """Create or re-activate the subscriber of a chat; link ``user`` when given. Returns it."""
    from mailings.models import BotSubscriber

    with transaction.atomic():
        subscriber, created = BotSubscriber.objects.select_for_update().get_or_create(
            channel=channel,
            chat_id=str(chat_id),
            defaults={"username": username or "", "first_name": first_name or "", "language_code": language_code or ""},
        )
        fields = []
        if not subscriber.is_active:
            subscriber.is_active, subscriber.unsubscribed_at = True, None
            fields += ["is_active", "unsubscribed_at"]
        for name, value in (("username", username), ("first_name", first_name), ("language_code", language_code)):
            if value and getattr(subscriber, name) != value:
                setattr(subscriber, name, value)
                fields.append(name)
        if user is not None and subscriber.user_id != user.pk:
            subscriber.user = user
            fields.append("user")
        if fields and not created:
            subscriber.save(update_fields=fields)
        elif fields:
            subscriber.save()
    return subscriber


def subscriber_deactivate(*, channel: str, chat_id) -> bool:
    """Mark a chat's subscriber inactive (/stop, blocked the bot). True when it changed."""
    from mailings.models import BotSubscriber

    return bool(
        BotSubscriber.objects.filter(channel=channel, chat_id=str(chat_id), is_active=True).update(
            is_active=False, unsubscribed_at=timezone.now()
        )
    )


def subscriber_link_user(*, subscriber, user):
    """Attach ``user`` to a bot subscriber (account linking)."""
    from mailings.models import BotSubscriber

    BotSubscriber.objects.filter(pk=subscriber.pk).update(user=user)
    subscriber.user = user
    return subscriber


@transaction.atomic
def recipient_forget(*, user) -> dict[str, int]:
    """Stop reaching a deleted account: unlink its bot chats and drop what is queued for it.

    Called for ``portal.signals.user_erasing``. The user's bot subscribers lose
    the link, the chat's name and username, and are deactivated (a later
    ``/start`` in that chat is a stranger's); pending notifications and mailing
    deliveries are skipped. Sent history stays. Returns the counts
    ``{"subscribers", "notifications", "deliveries"}``.
    """
    from mailings.models import BotSubscriber, Delivery

    now = timezone.now()
    subscribers = BotSubscriber.objects.filter(user=user).update(
        user=None, is_active=False, unsubscribed_at=now, username="", first_name=""
    )
    notifications = Notification.objects.filter(user=user, status=Notification.Status.PENDING).update(
        status=Notification.Status.SKIPPED, error="account deleted"
    )
    deliveries = Delivery.objects.filter(user=user, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SKIPPED, error="account deleted"
    )
    return {"subscribers": subscribers, "notifications": notifications, "deliveries": deliveries}


# --- Mailings ---------------------------------------------------------------

MAILING_CHANNELS = ("telegram", "vk", "email")
BATCH_SIZE = {"telegram": 100, "vk": 1000, "email": 100}
MATERIALIZE_CHUNK = 2000
MEDIA_TYPES_BY_EXTENSION = {
    "jpg": "photo",
    "jpeg": "photo",
    "png": "photo",
    "webp": "photo",
    "gif": "animation",
    "mp4": "video",
    "mov": "video",
    "webm": "video",
}


def mailing_validate(*, name: str, text: str, audience: str, channels, buttons, city=None, media=None) -> str:
    """Check a mailing's fields; return the media type ("" without media). Raises ValidationError."""
    from django.utils.translation import gettext as _

    from mailings.models import Mailing
    from mailings.telegram_html import TelegramHTMLError, validate_button_url, validate_html
    from portal.errors import ValidationError

    if not (name or "").strip():
        raise ValidationError(_("Give the mailing a name."), code="name_required")
    try:
        validate_html(text or "")
    except TelegramHTMLError as exc:
        raise ValidationError(str(exc), code="invalid_html") from exc
    if audience not in Mailing.Audience.values:
        raise ValidationError(_("Unknown audience."), code="invalid_audience")
    if audience == Mailing.Audience.CITY and city is None:
        raise ValidationError(_("Choose the city for a city audience."), code="city_required")
    channels = list(channels or [])
    if not channels or any(c not in MAILING_CHANNELS for c in channels) or len(set(channels)) != len(channels):
        raise ValidationError(_("Choose one or more channels: Telegram, VK, email."), code="invalid_channels")
    for button_text, url in buttons or []:
        if not (button_text or "").strip() or len(button_text) > 64:
            raise ValidationError(_("A button needs a text of up to 64 characters."), code="invalid_button")
        try:
            validate_button_url(url or "")
        except TelegramHTMLError as exc:
            raise ValidationError(str(exc), code="invalid_button") from exc
    if not media:
        return ""
    extension = (getattr(media, "name", "") or "").rsplit(".", 1)[-1].lower()
    media_type = MEDIA_TYPES_BY_EXTENSION.get(extension)
    if media_type is None:
        raise ValidationError(
            _("Media must be a photo (JPEG, PNG, WebP), an animation (GIF) or a video (MP4, MOV, WebM)."),
            code="invalid_media",
        )
    if getattr(media, "size", 0) > 50 * 1024 * 1024:
        raise ValidationError(_("Media must be at most 50 MB."), code="invalid_media")
    return media_type


@transaction.atomic
def mailing_create(
    *,
    name: str,
    text: str,
    send_at,
    audience: str,
    channels: list[str],
    buttons: list[tuple[str, str]] | None = None,
    media=None,
    city=None,
    created_by=None,
):
    """Create a scheduled mailing with its ordered buttons.

    ``send_at`` is an aware datetime (forms take it in Moscow time); it may not
    lie in the past. ``media`` is an uploaded/Django File (photo, GIF, video).
    """
    from django.utils.translation import gettext as _

    from mailings.models import Mailing, MailingButton
    from portal.errors import ValidationError

    buttons = list(buttons or [])
    media_type = mailing_validate(
        name=name, text=text, audience=audience, channels=channels, buttons=buttons, city=city, media=media
    )
    if send_at is None or timezone.is_naive(send_at):
        raise ValidationError(_("Give the sending time."), code="invalid_send_at")
    if send_at < timezone.now() - timedelta(minutes=5):
        raise ValidationError(_("The sending time is in the past."), code="send_at_past")
    mailing = Mailing(
        name=name.strip(),
        text=text,
        send_at=send_at,
        audience=audience,
        channels=list(channels),
        city=city if audience == Mailing.Audience.CITY else None,
        created_by=created_by,
        media_type=media_type,
        status=Mailing.Status.SCHEDULED,
    )
    if media:
        mailing.media.save(getattr(media, "name", "media").rsplit("/", 1)[-1], media, save=False)
    mailing.save()
    MailingButton.objects.bulk_create(
        MailingButton(mailing=mailing, text=button_text.strip(), url=url.strip(), position=index)
        for index, (button_text, url) in enumerate(buttons)
    )
    return mailing


def mailing_schedule(*, mailing):
    """Draft → scheduled, after validating it as mailing_create would."""
    from django.utils.translation import gettext as _

    from mailings.models import Mailing
    from portal.errors import Conflict

    mailing_validate(
        name=mailing.name,
        text=mailing.text,
        audience=mailing.audience,
        channels=mailing.channels,
        buttons=list(mailing.buttons.values_list("text", "url")),
        city=mailing.city,
        media=mailing.media or None,
    )
    if not Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.DRAFT).update(status=Mailing.Status.SCHEDULED):
        raise Conflict(_("Only a draft can be scheduled."), code="mailing_not_draft")
    mailing.refresh_from_db()
    return mailing


def mailing_cancel(*, mailing):
    """Cancel a draft, scheduled or sending mailing; batches stop before their next message."""
    from django.utils.translation import gettext as _

    from mailings.models import Delivery, Mailing
    from portal.errors import Conflict

    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if locked.status not in (Mailing.Status.DRAFT, Mailing.Status.SCHEDULED, Mailing.Status.SENDING):
            raise Conflict(_("This mailing can no longer be cancelled."), code="mailing_not_cancellable")
        locked.status = Mailing.Status.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        Delivery.objects.filter(mailing=locked, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SKIPPED, error="cancelled"
        )
    _mailing_store_counts(mailing_id=locked.pk)
    mailing.refresh_from_db()
    return mailing


def mailings_dispatch_due(*, now=None) -> list[int]:
    """Claim every due scheduled mailing (once, however many dispatchers run) and start it.

    Also resumes sending mailings whose workers went quiet (crash, lost task).
    """
    from mailings.models import Mailing

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Mailing.objects.select_for_update(skip_locked=True)
            .filter(status=Mailing.Status.SCHEDULED, send_at__lte=now)
            .order_by("send_at", "pk")
            .values_list("pk", flat=True)
        )
        claimed = [
            pk
            for pk in due
            if Mailing.objects.filter(pk=pk, status=Mailing.Status.SCHEDULED).update(
                status=Mailing.Status.SENDING, started_at=now, heartbeat_at=now
            )
        ]
    for pk in claimed:
        mailing_start(mailing_id=pk)
    mailings_resume_stalled(now=now)
    return claimed


def mailing_start(*, mailing_id: int) -> int:
    """List one Delivery per recipient and channel (idempotent), then fan out batch tasks."""
    from mailings.models import Delivery, Mailing
    from mailings.selectors import mailing_recipient_rows

    mailing = Mailing.objects.get(pk=mailing_id)
    if mailing.status != Mailing.Status.SENDING:
        return 0
    for channel in mailing.channels:
        chunk = []
        for recipient_key, subscriber_id, user_id in mailing_recipient_rows(mailing=mailing, channel=channel):
            chunk.append(
                Delivery(
                    mailing_id=mailing.pk,
                    channel=channel,
                    recipient_key=recipient_key,
                    subscriber_id=subscriber_id,
                    user_id=user_id,
                )
            )
            if len(chunk) >= MATERIALIZE_CHUNK:
                Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
                chunk = []
        if chunk:
            Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
    total = Delivery.objects.filter(mailing_id=mailing.pk).count()
    Mailing.objects.filter(pk=mailing.pk).update(
        materialized_at=timezone.now(), heartbeat_at=timezone.now(), total_count=total
    )
    mailing_fan_out(mailing_id=mailing.pk)
    mailing_finish_if_done(mailing_id=mailing.pk)
    return total


def mailing_fan_out(*, mailing_id: int) -> int:
    """Enqueue ``send_mailing_batch`` for every id range holding pending deliveries."""
    from mailings.models import Delivery, Mailing
    from mailings.tasks import send_mailing_batch

    channels = Mailing.objects.values_list("channels", flat=True).get(pk=mailing_id)
    queue = settings.MAILINGS_QUEUE or None
    batches = 0
    for channel in channels:
        size = BATCH_SIZE.get(channel, 100)
        ids = (
            Delivery.objects.filter(mailing_id=mailing_id, channel=channel, status=Delivery.Status.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        first = last = None
        count = 0
        for pk in ids.iterator(chunk_size=5000):
            if first is None:
                first = pk
            last, count = pk, count + 1
            if count == size:
                send_mailing_batch.apply_async((mailing_id, channel, first, last), queue=queue)
                batches += 1
                first, count = None, 0
        if first is not None:
            send_mailing_batch.apply_async((mailing_id, channel, first, last), queue=queue)
            batches += 1
    return batches


def mailings_resume_stalled(*, now=None) -> list[int]:
    """Pick up sending mailings nobody has touched for MAILING_DELIVERY_LEASE_SECONDS.

    Deliveries left "sending" by a dead worker: VK ones go back to pending with
    their batch key (the repeated call reuses the random_id, VK drops the
    duplicate); Telegram and email ones may already have arrived, so they are
    failed as "interrupted" rather than risk a second copy.
    """
    from mailings.models import Delivery, Mailing

    now = now or timezone.now()
    lease = settings.MAILING_DELIVERY_LEASE_SECONDS
    deadline = now - timedelta(seconds=lease)
    resumed = []
    stalled = Mailing.objects.filter(status=Mailing.Status.SENDING).filter(
        models.Q(heartbeat_at__isnull=True) | models.Q(heartbeat_at__lte=deadline)
    )
    for mailing in stalled.only("pk", "materialized_at"):
        if not Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.SENDING).update(heartbeat_at=now):
            continue
        resumed.append(mailing.pk)
        if mailing.materialized_at is None:
            mailing_start(mailing_id=mailing.pk)
            continue
        orphans = Delivery.objects.filter(mailing=mailing, status=Delivery.Status.SENDING, claimed_at__lte=deadline)
        orphans.filter(channel="vk").update(status=Delivery.Status.PENDING, claimed_by="")
        orphans.exclude(channel="vk").update(
            status=Delivery.Status.FAILED, error="interrupted while sending; not repeated to avoid a duplicate"
        )
        mailing_fan_out(mailing_id=mailing.pk)
        mailing_finish_if_done(mailing_id=mailing.pk)
    return resumed


def _mailing_store_counts(*, mailing_id: int) -> dict:
    from mailings.models import Mailing
    from mailings.selectors import mailing_progress

    mailing = Mailing.objects.get(pk=mailing_id)
    progress = mailing_progress(mailing=mailing)
    Mailing.objects.filter(pk=mailing_id).update(
        total_count=progress["total"],
        sent_count=progress["sent"],
        failed_count=progress["failed"],
        skipped_count=progress["skipped"],
    )
    return progress


def mailing_finish_if_done(*, mailing_id: int) -> bool:
    """sending → sent once no delivery is pending; report to staff. True when it finished now."""
    from mailings.models import Delivery, Mailing

    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().get(pk=mailing_id)
        if mailing.status != Mailing.Status.SENDING or mailing.materialized_at is None:
            return False
        if Delivery.objects.filter(
            mailing=mailing, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
        ).exists():
            return False
        mailing.status = Mailing.Status.SENT
        mailing.finished_at = timezone.now()
        mailing.save(update_fields=["status", "finished_at"])
        progress = _mailing_store_counts(mailing_id=mailing.pk)
        duration = (mailing.finished_at - (mailing.started_at or mailing.finished_at)).total_seconds()
        security_event_record(
            kind=SecurityEvent.Kind.MAILING_SENT,
            actor=mailing.created_by,
            details={
                "mailing_id": mailing.pk,
                "name": mailing.name,
                "audience": mailing.audience,
                "channels": list(mailing.channels or []),
                "total": progress["total"],
                "sent": progress["sent"],
                "failed": progress["failed"],
            },
        )
        notify_staff(
            kind="mailing_report",
            context={
                "mailing_id": mailing.pk,
                "name": mailing.name,
                "total": progress["total"],
                "sent": progress["sent"],
                "failed": progress["failed"],
                "skipped": progress["skipped"],
                "duration_seconds": round(duration),
            },
            dedupe_key=f"mailing:{mailing.pk}:report",
        )
    return True


# --- Sending a batch ----------------------------------------------------------


def _telegram_media(mailing):
    from mailings.channels.telegram import Media

    if not mailing.media:
        return None
    if mailing.telegram_file_id:
        return Media(kind=mailing.media_type, file_id=mailing.telegram_file_id)
    with mailing.media.open("rb") as handle:
        content = handle.read()
    return Media(kind=mailing.media_type, content=content, filename=mailing.media.name.rsplit("/", 1)[-1])


def _vk_attachment(mailing, peer_id: int = 0) -> str:
    """The VK attachment (a photo, or a GIF as a document), uploaded once per mailing (the row lock
    serialises uploaders); "" for a video, which a community cannot send (vk.MEDIA_SUPPORT)."""
    from mailings.channels import vk
    from mailings.models import Mailing

    if not mailing.media or vk.MEDIA_SUPPORT.get(mailing.media_type) is None:
        return ""
    if mailing.vk_attachment:
        return mailing.vk_attachment
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if not locked.vk_attachment:
            with locked.media.open("rb") as handle:
                content = handle.read()
            filename = locked.media.name.rsplit("/", 1)[-1]
            if vk.MEDIA_SUPPORT[locked.media_type] == "doc":
                locked.vk_attachment = vk.upload_message_document(content=content, filename=filename, peer_id=peer_id)
            else:
                locked.vk_attachment = vk.upload_message_photo(content=content, filename=filename)
            locked.save(update_fields=["vk_attachment"])
    mailing.vk_attachment = locked.vk_attachment
    return mailing.vk_attachment


def _email_message(mailing, buttons):
    from django.utils.html import escape as html_escape

    from mailings.telegram_html import sanitize, to_plain_text

    plain = to_plain_text(mailing.text)
    lines = [plain, ""] + [f"{text}: {url}" for text, url in buttons]
    html = sanitize(mailing.text).replace("\n", "<br>\n") + "".join(
        f'<p><a href="{html_escape(url)}">{html_escape(text)}</a></p>' for text, url in buttons
    )
    subject = plain.splitlines()[0][:78] if plain else mailing.name
    return subject, "\n".join(lines).strip(), html


#: Emails carry the mailing's media as an attachment up to this size (mail servers refuse large files).
EMAIL_MEDIA_MAX_BYTES = 10 * 1024 * 1024


def _email_media(mailing) -> tuple[str, bytes, str] | None:
    """The media as an email attachment ``(filename, content, mimetype)``, or None (none, or too large)."""
    import mimetypes

    if not mailing.media:
        return None
    try:
        if mailing.media.size > EMAIL_MEDIA_MAX_BYTES:
            return None
        with mailing.media.open("rb") as handle:
            content = handle.read()
    except OSError:
        return None
    filename = mailing.media.name.rsplit("/", 1)[-1]
    return filename, content, mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _is_sending(mailing_id: int) -> bool:
    from mailings.models import Mailing

    return Mailing.objects.filter(pk=mailing_id, status=Mailing.Status.SENDING).exists()


def _mark(delivery_id: int, status: str, error: str = "") -> None:
    from mailings.models import Delivery

    Delivery.objects.filter(pk=delivery_id).update(
        status=status, error=error[:2000], sent_at=timezone.now() if status == Delivery.Status.SENT else None
    )


def mailing_send_batch(*, mailing_id: int, channel: str, first_id: int, last_id: int, worker: str = "") -> dict:
    """Send the pending deliveries of one id range; each row is claimed before its message.

    Returns counts {"sent", "failed", "skipped"}. A temporary channel failure
    puts the row back to pending and re-raises DeliveryError (the task retries
    the range; rows already sent are not touched again).
    """
    from mailings.models import Delivery, Mailing

    mailing = Mailing.objects.get(pk=mailing_id)
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    if mailing.status != Mailing.Status.SENDING:
        return counts
    Mailing.objects.filter(pk=mailing_id).update(heartbeat_at=timezone.now())
    worker = worker or f"pid{os.getpid()}"
    buttons = list(mailing.buttons.order_by("position", "pk").values_list("text", "url"))
    rows = Delivery.objects.filter(
        mailing_id=mailing_id, channel=channel, pk__gte=first_id, pk__lte=last_id, status=Delivery.Status.PENDING
    )
    try:
        if channel == "vk":
            _send_vk_batch(mailing, rows, buttons, worker, counts)
        else:
            _send_one_by_one(mailing, channel, rows, buttons, worker, counts)
    finally:
        Mailing.objects.filter(pk=mailing_id).update(heartbeat_at=timezone.now())
    mailing_finish_if_done(mailing_id=mailing_id)
    return counts


def _claim(delivery_id: int, worker: str) -> bool:
    from mailings.models import Delivery

    return bool(
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SENDING, claimed_by=worker[:120], claimed_at=timezone.now()
        )
    )


def _send_one_by_one(mailing, channel, rows, buttons, worker, counts) -> None:
    from mailings.channels import DeliveryError, PermanentDeliveryError
    from mailings.channels import telegram as tg
    from mailings.models import Delivery, Mailing
    from mailings.rate_limit import acquire_telegram
    from mailings.telegram_html import escape, sanitize

    text = sanitize(mailing.text)
    media = _telegram_media(mailing) if channel == "telegram" else None
    email = _email_message(mailing, buttons) if channel == "email" else None
    email_media = _email_media(mailing) if channel == "email" else None
    items = list(
        rows.order_by("pk").values_list(
            "pk", "recipient_key", "user__email", "user__is_blocked", "subscriber__is_active"
        )
    )
    for index, (delivery_id, recipient_key, email_address, user_blocked, subscribed) in enumerate(items):
        if index % 20 == 0 and index and not _is_sending(mailing.pk):
            return
        address = recipient_key.split(":", 1)[1]
        if user_blocked or subscribed is False:
            # Blocked or unsubscribed since the recipients were listed.
            if Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
                status=Delivery.Status.SKIPPED, error="blocked user" if user_blocked else "unsubscribed"
            ):
                counts["skipped"] += 1
            continue
        if channel == "telegram":
            # Take the rate-limit slot before claiming, so a claimed row goes out at once.
            try:
                acquire_telegram(address)
            except TimeoutError as exc:
                raise DeliveryError(str(exc)) from exc
        if not _claim(delivery_id, worker):
            continue
        try:
            if channel == "telegram":
                file_id = tg.send_rich(chat_id=address, text=text, buttons=buttons, media=media, first_slot_taken=True)
                if media is not None and file_id and not media.file_id:
                    media = tg.Media(kind=media.kind, file_id=file_id)
                    Mailing.objects.filter(pk=mailing.pk, telegram_file_id="").update(telegram_file_id=file_id)
            elif channel == "email":
                from django.core.mail import EmailMultiAlternatives

                if not email_address:
                    _mark(delivery_id, Delivery.Status.SKIPPED, "no email address")
                    counts["skipped"] += 1
                    continue
                subject, body, html = email
                message = EmailMultiAlternatives(
                    subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email_address]
                )
                message.attach_alternative(html, "text/html")
                if email_media:
                    message.attach(*email_media)
                try:
                    message.send()
                except (smtplib.SMTPException, OSError) as exc:
                    raise DeliveryError(str(exc)) from exc
            else:
                _mark(delivery_id, Delivery.Status.SKIPPED, f"unknown channel {escape(channel)}")
                counts["skipped"] += 1
                continue
        except tg.RecipientGone as exc:
            subscriber_deactivate(channel=channel, chat_id=address)
            _mark(delivery_id, Delivery.Status.FAILED, f"recipient blocked the bot: {exc}")
            counts["failed"] += 1
        except PermanentDeliveryError as exc:
            _mark(delivery_id, Delivery.Status.FAILED, str(exc))
            counts["failed"] += 1
        except DeliveryError:
            Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.PENDING, claimed_by="")
            raise
        else:
            _mark(delivery_id, Delivery.Status.SENT)
            counts["sent"] += 1


def _send_vk_batch(mailing, rows, buttons, worker, counts) -> None:
    from mailings.channels import DeliveryError, PermanentDeliveryError, vk
    from mailings.models import Delivery
    from mailings.telegram_html import to_plain_text

    text = to_plain_text(mailing.text)
    first_peer = rows.order_by("pk").values_list("recipient_key", flat=True).first()
    attachment = _vk_attachment(mailing, peer_id=int(first_peer.split(":", 1)[1]) if first_peer else 0)
    gone = rows.filter(batch_key="").filter(models.Q(user__is_blocked=True) | models.Q(subscriber__is_active=False))
    counts["skipped"] += gone.update(status=Delivery.Status.SKIPPED, error="blocked user or unsubscribed")
    while True:
        if not _is_sending(mailing.pk):
            return
        # A group left by a dead worker goes out again under its old key (same random_id).
        with transaction.atomic():
            resumed = rows.exclude(batch_key="").order_by("pk").values_list("batch_key", flat=True).first()
            if resumed:
                chunk = list(
                    rows.filter(batch_key=resumed)
                    .select_for_update(skip_locked=True)
                    .values_list("pk", "recipient_key")
                )
                batch_key = resumed
            else:
                chunk = list(
                    rows.filter(batch_key="")
                    .order_by("pk")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", "recipient_key")[: vk.MAX_PEERS_PER_CALL]
                )
                batch_key = f"{mailing.pk}:{chunk[0][0]}" if chunk else ""
            if not chunk:
                return
            Delivery.objects.filter(pk__in=[pk for pk, _ in chunk]).update(
                status=Delivery.Status.SENDING, claimed_by=worker[:120], claimed_at=timezone.now(), batch_key=batch_key
            )
        peers = {int(key.split(":", 1)[1]): pk for pk, key in chunk}
        try:
            results = vk.send_to_peers(
                peer_ids=list(peers),
                text=text,
                random_id=vk.random_id_for("mailing", batch_key),
                buttons=buttons,
                attachment=attachment,
            )
        except PermanentDeliveryError as exc:
            Delivery.objects.filter(pk__in=peers.values()).update(status=Delivery.Status.FAILED, error=str(exc))
            counts["failed"] += len(peers)
            continue
        except DeliveryError:
            Delivery.objects.filter(pk__in=peers.values()).update(status=Delivery.Status.PENDING, claimed_by="")
            raise
        now = timezone.now()
        failed = {peer: error for peer, error in results.items() if error}
        sent_ids = [pk for peer, pk in peers.items() if peer not in failed]
        Delivery.objects.filter(pk__in=sent_ids).update(status=Delivery.Status.SENT, sent_at=now)
        counts["sent"] += len(sent_ids)
        for peer, (code, description) in failed.items():
            if code in vk.RECIPIENT_GONE_CODES:
                subscriber_deactivate(channel="vk", chat_id=peer)
            _mark(peers[peer], Delivery.Status.FAILED, f"VK error {code}: {description}")
            counts["failed"] += 1


def mailing_send_test(*, mailing, user) -> list[str]:
    """Send one copy of ``mailing`` to ``user`` through each of its channels that reaches them."""
    from django.utils.translation import gettext as _

    from mailings.channels import DeliveryError, vk
    from mailings.channels import telegram as tg
    from portal.errors import ValidationError

    buttons = list(mailing.buttons.order_by("position", "pk").values_list("text", "url"))
    reached, errors = [], []
    for channel in mailing.channels:
        try:
            if channel == "telegram" and tg.is_configured() and (chat := tg.subscriber_chat_for(user)):
                from mailings.telegram_html import sanitize

                tg.send_rich(chat_id=chat, text=sanitize(mailing.text), buttons=buttons, media=_telegram_media(mailing))
            elif channel == "vk" and (peer := vk.VKChannel().address_for(user)):
                from mailings.telegram_html import to_plain_text

                vk.send_to_peers(
                    peer_ids=[peer],
                    text=to_plain_text(mailing.text),
                    random_id=vk.random_id_for("test", mailing.pk, peer, timezone.now().timestamp()),
                    buttons=buttons,
                    attachment=_vk_attachment(mailing, peer_id=int(peer)),
                )
            elif channel == "email" and user.email:
                from django.core.mail import EmailMultiAlternatives

                subject, body, html = _email_message(mailing, buttons)
                message = EmailMultiAlternatives(
                    subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
                )
                message.attach_alternative(html, "text/html")
                if media := _email_media(mailing):
                    message.attach(*media)
                message.send()
            else:
                continue
        except DeliveryError as exc:
            errors.append(f"{channel}: {exc}")
            continue
        reached.append(channel)
    if not reached:
        raise ValidationError(
            "; ".join(errors) or _("None of the mailing's channels reaches you: link Telegram or VK, or add an email."),
            code="test_not_delivered",
        )
    return reached
