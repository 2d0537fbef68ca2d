"""Transactional notifications: one ``notify`` for every feature.

notify() records a Notification under a unique dedupe key (a second call with
the same key does nothing), renders its text from templates now, and hands the
delivery to Celery after the surrounding transaction commits.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from mailings.channels import DeliveryError, PermanentDeliveryError, channels_for_user
from mailings.channels.base import Message
from mailings.models import Notification

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
    one with ``dedupe_key`` already exists.
    """

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
