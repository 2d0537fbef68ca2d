"""Broadcast mailings: compose, schedule, dispatch, fan out, send in batches, finish.

The walk of a mailing is drawn in docs/architecture.md ("A mailing, from admin
to channel"): ``mailing_create`` → beat's ``dispatch_due_mailings`` →
``mailings_dispatch_due`` claims it → ``mailing_start`` lists one Delivery per
recipient → ``mailing_fan_out`` enqueues ``send_mailing_batch`` per id range →
``mailing_send_batch`` claims rows and sends them through the channel
(``mailings.sending``) → ``mailing_finish_if_done`` reports to staff.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

# The tasks call this module and it enqueues them: both import the module, not its names.
from mailings import tasks
from mailings.channels import Channel, Media, Message, SendResult, SendStatus, get_channel
from mailings.models import Delivery, Mailing, MailingButton
from mailings.notifications import notify_staff
from mailings.selectors import mailing_progress, mailing_recipient_rows
from mailings.sending import DeliveryError, deliver, deliver_batch, retry_error
from mailings.telegram_html import TelegramHTMLError, sanitize, to_plain_text, validate_button_url, validate_html
from portal.errors import Conflict, ValidationError
from portal.models import City, SecurityEvent, User
from portal.services import security_event_record

MAILING_CHANNELS = ("telegram", "vk", "email")
# Delivery rows per send_mailing_batch task.
BATCH_SIZE = {"telegram": 100, "vk": 1000, "email": 100}
MATERIALIZE_CHUNK = 2000
# Messages sent between two looks at the mailing's status (a cancel stops it there).
CANCEL_CHECK_EVERY = 20
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
# Where a mailing keeps a channel's handle of its media, uploaded once and
# reused by every message. Channels not listed (email) send no media.
MEDIA_HANDLE_FIELDS = {"telegram": "telegram_file_id", "vk": "vk_attachment"}


# --- Composing and scheduling --------------------------------------------------


def mailing_validate(
    *,
    name: str,
    text: str,
    audience: str,
    channels: Iterable[str] | None,
    buttons: Iterable[tuple[str, str]] | None,
    city: City | None = None,
    media: File[Any] | None = None,
) -> str:
    """Check a mailing's fields; return the media type ("" without media). Raises ValidationError."""
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
    send_at: datetime | None,
    audience: str,
    channels: list[str],
    buttons: list[tuple[str, str]] | None = None,
    media: File[Any] | None = None,
    city: City | None = None,
    created_by: User | None = None,
) -> Mailing:
    """Create a scheduled mailing with its ordered buttons.

    ``send_at`` is an aware datetime (forms take it in Moscow time); it may not
    lie in the past. ``media`` is an uploaded/Django File (photo, GIF, video).
    """
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


def mailing_schedule(*, mailing: Mailing) -> Mailing:
    """Draft → scheduled, after validating it as mailing_create would."""
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


def mailing_cancel(*, mailing: Mailing) -> Mailing:
    """Cancel a draft, scheduled or sending mailing; batches stop before their next message."""
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


# --- Dispatch, listing the recipients, fan-out -----------------------------------


def mailings_dispatch_due(*, now: datetime | None = None) -> list[int]:
    """Claim every due scheduled mailing (once, however many dispatchers run) and start it.

    Also resumes sending mailings whose workers went quiet (crash, lost task).
    """
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
    mailing = Mailing.objects.get(pk=mailing_id)
    if mailing.status != Mailing.Status.SENDING:
        return 0
    for channel in mailing.channels:
        chunk: list[Delivery] = []
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
                tasks.send_mailing_batch.apply_async((mailing_id, channel, first, last), queue=queue)
                batches += 1
                first, count = None, 0
        if first is not None:
            tasks.send_mailing_batch.apply_async((mailing_id, channel, first, last), queue=queue)
            batches += 1
    return batches


def mailings_resume_stalled(*, now: datetime | None = None) -> list[int]:
    """Pick up sending mailings nobody has touched for MAILING_DELIVERY_LEASE_SECONDS.

    Deliveries left "sending" by a dead worker go back to pending with their
    batch key where the channel drops a repeated send (VK: the same random_id);
    elsewhere (Telegram, email) the message may already have arrived, so they
    are failed as "interrupted" rather than risk a second copy.
    """
    now = now or timezone.now()
    lease = settings.MAILING_DELIVERY_LEASE_SECONDS
    deadline = now - timedelta(seconds=lease)
    resumed: list[int] = []
    stalled = Mailing.objects.filter(status=Mailing.Status.SENDING).filter(
        models.Q(heartbeat_at__isnull=True) | models.Q(heartbeat_at__lte=deadline)
    )
    for mailing in stalled.only("pk", "materialized_at", "channels"):
        if not Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.SENDING).update(heartbeat_at=now):
            continue
        resumed.append(mailing.pk)
        if mailing.materialized_at is None:
            mailing_start(mailing_id=mailing.pk)
            continue
        orphans = Delivery.objects.filter(mailing=mailing, status=Delivery.Status.SENDING, claimed_at__lte=deadline)
        for name in mailing.channels:
            if get_channel(name).resend_is_deduplicated:
                orphans.filter(channel=name).update(status=Delivery.Status.PENDING, claimed_by="")
            else:
                orphans.filter(channel=name).update(
                    status=Delivery.Status.FAILED, error="interrupted while sending; not repeated to avoid a duplicate"
                )
        mailing_fan_out(mailing_id=mailing.pk)
        mailing_finish_if_done(mailing_id=mailing.pk)
    return resumed


def _mailing_store_counts(*, mailing_id: int) -> dict[str, Any]:
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


# --- The message and its media ------------------------------------------------------


def mailing_message(*, mailing: Mailing, media: Media | None = None) -> Message:
    """The mailing as a channel message: its HTML, the plain text, the buttons in order."""
    plain = to_plain_text(mailing.text)
    return Message(
        subject=plain.splitlines()[0][:78] if plain else mailing.name,
        text=plain,
        html=sanitize(mailing.text),
        buttons=list(mailing.buttons.order_by("position", "pk").values_list("text", "url")),
        media=media,
    )


def _mailing_media(*, mailing: Mailing, channel: Channel) -> Media | None:
    """The mailing's media for ``channel``, with its handle when there is one.

    The handle is uploaded once per mailing (the row lock serialises
    uploaders) where the platform uploads ahead (VK). Without a handle the
    media carries its bytes: the first send uploads it (Telegram) or, after a
    failed upload, tries again and reports the outcome per recipient.
    """
    field = MEDIA_HANDLE_FIELDS.get(channel.name)
    if not mailing.media:
        return None
    kind, filename = mailing.media_type, (mailing.media.name or "").rsplit("/", 1)[-1]
    if field is None:  # email: the file itself goes as an attachment
        with mailing.media.open("rb") as file:
            return Media(kind=kind, filename=filename, content=file.read())
    if getattr(mailing, field):
        return Media(kind=kind, filename=filename, handle=getattr(mailing, field))
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing.pk)
        handle = getattr(locked, field)
        if not handle:
            with locked.media.open("rb") as file:
                media = Media(kind=kind, filename=filename, content=file.read())
            handle = channel.upload_media(media).media_handle
            if not handle:
                return media
            setattr(locked, field, handle)
            locked.save(update_fields=[field])
    setattr(mailing, field, handle)
    return Media(kind=kind, filename=filename, handle=handle)


def _remember_media_handle(
    *, mailing: Mailing, channel: Channel, message: Message, results: Iterable[SendResult]
) -> Message:
    """Keep the handle a send reported for media sent as bytes, and send the handle from now on."""
    media = message.media
    if media is None or media.handle:
        return message
    handle = next((r.media_handle for r in results if r.status == SendStatus.SENT and r.media_handle), "")
    if not handle:
        return message
    field = MEDIA_HANDLE_FIELDS[channel.name]
    Mailing.objects.filter(pk=mailing.pk, **{field: ""}).update(**{field: handle})
    return replace(message, media=replace(media, handle=handle, content=b""))


# --- Sending a batch ----------------------------------------------------------------


def _is_sending(mailing_id: int) -> bool:
    return Mailing.objects.filter(pk=mailing_id, status=Mailing.Status.SENDING).exists()


def _heartbeat(mailing_id: int) -> None:
    Mailing.objects.filter(pk=mailing_id).update(heartbeat_at=timezone.now())


def _skip_gone(rows: QuerySet[Delivery]) -> int:
    """Skip the rows whose user was blocked or whose chat unsubscribed since the listing."""
    fresh = rows.filter(batch_key="")
    skipped = fresh.filter(user__is_blocked=True).update(status=Delivery.Status.SKIPPED, error="blocked user")
    skipped += fresh.filter(subscriber__is_active=False).update(status=Delivery.Status.SKIPPED, error="unsubscribed")
    return skipped


def _address(recipient_key: str, email: str | None) -> str:
    """Where a row goes: the chat of "tg:"/"vk:" keys, the user's current address for "email:<user id>"."""
    prefix, _sep, value = recipient_key.partition(":")
    return (email or "") if prefix == "email" else value


def _groups(
    *, mailing_id: int, items: Iterable[tuple[int, str, str, str | None]], size: int
) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """``(batch_key, [(pk, address), …])`` to send together: groups a dead worker left first, then new ones."""
    resumed: dict[str, list[tuple[int, str]]] = {}
    fresh: list[tuple[int, str]] = []
    for pk, recipient_key, batch_key, email in items:
        if batch_key:
            resumed.setdefault(batch_key, []).append((pk, _address(recipient_key, email)))
        else:
            fresh.append((pk, _address(recipient_key, email)))
    yield from resumed.items()
    for start in range(0, len(fresh), size):
        group = fresh[start : start + size]
        yield f"{mailing_id}:{group[0][0]}", group


def _claim(*, ids: list[int], batch_key: str, worker: str) -> list[int]:
    """pending → sending for the rows of ``ids`` no one else holds, stamped with the batch key."""
    with transaction.atomic():
        mine = list(
            Delivery.objects.filter(pk__in=ids, status=Delivery.Status.PENDING)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=mine).update(
            status=Delivery.Status.SENDING, claimed_by=worker[:120], claimed_at=timezone.now(), batch_key=batch_key
        )
    return mine


def _record(
    *, rows: list[tuple[int, str]], results: dict[str, SendResult], counts: dict[str, int]
) -> SendResult | None:
    """Store each row's outcome; rows to retry go back to pending (keeping their batch key). The retry, if any."""
    by_status: dict[str, list[int]] = {}
    retry = None
    for pk, address in rows:
        result = results[address]
        if result.status in (SendStatus.SENT, SendStatus.RETRY):
            by_status.setdefault(result.status, []).append(pk)
            retry = retry or (result if result.status == SendStatus.RETRY else None)
            continue
        prefix = "recipient gone: " if result.status == SendStatus.BLOCKED else ""
        Delivery.objects.filter(pk=pk).update(status=Delivery.Status.FAILED, error=(prefix + result.error)[:2000])
        counts["failed"] += 1
    sent = by_status.get(SendStatus.SENT, [])
    Delivery.objects.filter(pk__in=sent).update(status=Delivery.Status.SENT, sent_at=timezone.now(), error="")
    counts["sent"] += len(sent)
    Delivery.objects.filter(pk__in=by_status.get(SendStatus.RETRY, [])).update(
        status=Delivery.Status.PENDING, claimed_by=""
    )
    return retry


def mailing_send_batch(
    *, mailing_id: int, channel: str, first_id: int, last_id: int, worker: str = ""
) -> dict[str, int]:
    """Send the pending deliveries of one id range on ``channel``; rows are claimed right before their message.

    Rows go in groups of the channel's ``batch_size`` (VK: 100 peers per call,
    keyed for deduplication; Telegram and email: one). The rate-limit slot is
    taken before a row is claimed, so a claimed row goes out at once. Returns
    counts {"sent", "failed", "skipped"}. A ``retry`` outcome puts its rows
    back to pending and raises DeliveryError (the task retries the range;
    rows already sent are not touched again).
    """
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    mailing = Mailing.objects.get(pk=mailing_id)
    if mailing.status != Mailing.Status.SENDING:
        return counts
    sender = get_channel(channel)
    worker = worker or f"pid{os.getpid()}"
    rows = Delivery.objects.filter(
        mailing_id=mailing_id, channel=channel, pk__gte=first_id, pk__lte=last_id, status=Delivery.Status.PENDING
    )
    _heartbeat(mailing_id)
    try:
        counts["skipped"] += _skip_gone(rows)
        items = list(rows.order_by("pk").values_list("pk", "recipient_key", "batch_key", "user__email"))
        media = _mailing_media(mailing=mailing, channel=sender) if items else None
        message = mailing_message(mailing=mailing, media=media)
        since_check = 0
        for batch_key, group in _groups(mailing_id=mailing_id, items=items, size=sender.batch_size):
            if since_check >= CANCEL_CHECK_EVERY:
                if not _is_sending(mailing_id):
                    break
                since_check = 0
            unreachable = [pk for pk, address in group if not address]
            if unreachable:
                counts["skipped"] += rows.filter(pk__in=unreachable).update(
                    status=Delivery.Status.SKIPPED, error="no address"
                )
                group = [(pk, address) for pk, address in group if address]
                if not group:
                    continue
            if not sender.take_turn(group[0][1]):
                raise DeliveryError(f"no rate-limit slot for {channel} in time")
            mine = set(_claim(ids=[pk for pk, _a in group], batch_key=batch_key, worker=worker))
            group = [(pk, address) for pk, address in group if pk in mine]
            if not group:
                continue
            results = deliver_batch(
                channel=sender,
                addresses=[address for _pk, address in group],
                message=message,
                dedupe_key=f"mailing:{batch_key}",
                turn_taken=True,
            )
            since_check += len(group)
            message = _remember_media_handle(mailing=mailing, channel=sender, message=message, results=results.values())
            retry = _record(rows=group, results=results, counts=counts)
            if retry is not None:
                raise retry_error(retry)
    finally:
        _heartbeat(mailing_id)
    mailing_finish_if_done(mailing_id=mailing_id)
    return counts


def mailing_send_test(*, mailing: Mailing, user: User) -> list[str]:
    """Send one copy of ``mailing`` to ``user`` through each of its channels that reaches them."""
    reached: list[str] = []
    errors: list[str] = []
    for name in mailing.channels:
        channel = get_channel(name)
        address = channel.address_for(user)
        if not address:
            continue
        message = mailing_message(mailing=mailing, media=_mailing_media(mailing=mailing, channel=channel))
        result = deliver(channel=channel, address=address, message=message)
        _remember_media_handle(mailing=mailing, channel=channel, message=message, results=[result])
        if result.status == SendStatus.SENT:
            reached.append(name)
        else:
            errors.append(f"{name}: {result.error}")
    if not reached:
        raise ValidationError(
            "; ".join(errors) or _("None of the mailing's channels reaches you: link Telegram or VK, or add an email."),
            code="test_not_delivered",
        )
    return reached
