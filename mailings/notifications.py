"""Transactional notifications: one ``notify`` for every feature.

notify() records a Notification under a unique dedupe key (a second call with
the same key does nothing), renders its text from templates now, and hands the
delivery to Celery after the surrounding transaction commits. The delivery
walks the user's channels (Telegram, then VK, then email, the console last)
until one takes the message; a kind may be limited to some channels
(``notification_kind_register``).
"""

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

# The tasks call this module and it enqueues them: both import the module, not its names.
from mailings import tasks
from mailings.channels import AppLink, Message, SendStatus, channels_for_user
from mailings.models import Notification
from mailings.sending import deliver, retry_error
from portal.models import User

# Where notify() keeps a notification's AppLink inside its stored context.
APP_LINK_KEY = "app_link"

# kind → the only channels it goes through, in order (see notification_kind_register).
_KIND_CHANNELS: dict[str, tuple[str, ...]] = {}


def notification_kind_register(*, kind: str, channels: Sequence[str]) -> None:
    """Deliver notifications of ``kind`` only through ``channels``, in this order, with no console fallback.

    The app that owns the kind calls it from ``AppConfig.ready()``. A user
    none of them reaches gets nothing (the notification is recorded as
    skipped). Kinds not registered take the user's best channel.
    """
    _KIND_CHANNELS[kind] = tuple(channels)


def _render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render ``notifications/<kind>/subject.txt`` and ``body.txt`` in the site language."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"notifications/{kind}/subject.txt", context).strip()
        text = render_to_string(f"notifications/{kind}/body.txt", context).strip()
    return " ".join(subject.split()), text


def _render_email_html(kind: str, context: dict[str, Any]) -> str | None:
    """The optional ``notifications/<kind>/body.html`` (emails only)."""
    with translation.override(settings.LANGUAGE_CODE):
        try:
            return render_to_string(f"notifications/{kind}/body.html", context).strip()
        except TemplateDoesNotExist:
            return None


def _render_context(user: User, context: dict[str, Any]) -> dict[str, Any]:
    return {**context, "user": user, "SITE_URL": settings.SITE_URL}


def notify(
    *, user: User, kind: str, context: dict[str, Any] | None = None, dedupe_key: str, app_link: AppLink | None = None
) -> Notification | None:
    """Tell ``user`` something once.

    ``kind`` names the templates under ``notifications/<kind>/``; ``context`` must be
    JSON-serialisable (it is stored). ``app_link``: a button to the page the
    message is about, opened in the Mini App (channels.AppLink; its text may be
    lazy, it is stored in the site's language). Returns the new Notification,
    or None when one with ``dedupe_key`` already exists. An inactive user (a
    deleted account) is told nothing: None, and nothing is recorded.
    """
    if not user.is_active:
        return None
    context = dict(context or {})
    if app_link is not None:
        with translation.override(settings.LANGUAGE_CODE):
            context[APP_LINK_KEY] = {**asdict(app_link), "text": str(app_link.text)}
    subject, text = _render(kind, _render_context(user, context))
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={"user": user, "kind": kind, "context": context, "subject": subject[:200], "text": text},
        )
    if not created:
        return None
    transaction.on_commit(lambda: tasks.deliver_notification.delay(notification.pk))
    return notification


def _app_link(context: object) -> AppLink | None:
    data = context.get(APP_LINK_KEY) if isinstance(context, dict) else None
    if not isinstance(data, dict) or not data.get("text") or not str(data.get("path", "")).startswith("/"):
        return None
    return AppLink(text=data["text"], path=data["path"], start_param=data.get("start_param", ""))


def notify_staff(*, kind: str, context: dict[str, Any] | None = None, dedupe_key: str) -> list[Notification]:
    """notify() every active staff user, each under ``<dedupe_key>:staff:<id>``."""
    sent = []
    for staff in User.objects.active().filter(is_staff=True).order_by("pk"):
        notification = notify(user=staff, kind=kind, context=context, dedupe_key=f"{dedupe_key}:staff:{staff.pk}")
        if notification:
            sent.append(notification)
    return sent


def notification_deliver(*, notification_id: int) -> Notification:
    """Send a pending notification through the user's best channel.

    The notification's own row lock makes two workers never send it twice
    (no other code takes that lock). A ``failed`` or ``blocked`` outcome falls
    through to the next channel; a ``retry`` is recorded and raised as
    DeliveryError so the task tries again later.
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().select_related("user").get(pk=notification_id)
        if notification.status != Notification.Status.PENDING:
            return notification
        if not notification.user.is_active:  # deleted (or deactivated) since it was queued
            notification.status = Notification.Status.SKIPPED
            notification.error = "inactive user"
            notification.save(update_fields=["status", "error"])
            return notification
        message = Message(
            subject=notification.subject,
            text=notification.text,
            email_html=_render_email_html(notification.kind, _render_context(notification.user, notification.context)),
            app_link=_app_link(notification.context),
        )
        notification.attempts += 1
        routes = channels_for_user(notification.user, names=_KIND_CHANNELS.get(notification.kind))
        errors: list[str] = []
        retry = None
        for channel, address in routes:
            notification.channel = channel.name
            result = deliver(
                channel=channel, address=address, message=message, dedupe_key=f"notification:{notification.pk}"
            )
            if result.status == SendStatus.SENT:
                notification.status = Notification.Status.SENT
                notification.sent_at = timezone.now()
                break
            errors.append(f"{channel.name}: {result.error}")
            if result.status == SendStatus.RETRY:
                retry = result
                break
        else:
            notification.status = Notification.Status.FAILED if routes else Notification.Status.SKIPPED
            if not routes:
                errors.append("no channel of this kind reaches the user")
        notification.error = "\n".join(errors)
        notification.save(update_fields=["status", "sent_at", "channel", "attempts", "error"])
    if retry is not None:
        raise retry_error(retry)
    return notification
