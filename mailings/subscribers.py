"""Bot subscribers: the chats that talk to our Telegram and VK bots."""

from django.db import transaction
from django.utils import timezone

from mailings.models import BotSubscriber, Delivery, Notification
from portal.models import User


def subscriber_subscribe(
    *,
    channel: str,
    chat_id: int | str,
    username: str = "",
    first_name: str = "",
    language_code: str = "",
    user: User | None = None,
) -> BotSubscriber:
    """Create or re-activate the subscriber of a chat; link ``user`` when given. Returns it."""
    with transaction.atomic():
        subscriber, created = BotSubscriber.objects.select_for_update().get_or_create(
            channel=channel,
            chat_id=str(chat_id),
            defaults={"username": username or "", "first_name": first_name or "", "language_code": language_code or ""},
        )
        fields: list[str] = []
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


def subscriber_deactivate(*, channel: str, chat_id: int | str) -> bool:
    """Mark a chat's subscriber inactive (/stop, blocked the bot). True when it changed."""
    return bool(
        BotSubscriber.objects.filter(channel=channel, chat_id=str(chat_id), is_active=True).update(
            is_active=False, unsubscribed_at=timezone.now()
        )
    )


def subscriber_link_user(*, subscriber: BotSubscriber, user: User) -> BotSubscriber:
    """Attach ``user`` to a bot subscriber (account linking)."""
    BotSubscriber.objects.filter(pk=subscriber.pk).update(user=user)
    subscriber.user = user
    return subscriber


@transaction.atomic
def recipient_forget(*, user: User) -> dict[str, int]:
    """Stop reaching a deleted account: unlink its bot chats and drop what is queued for it.

    Called for ``portal.signals.user_erasing``. The user's bot subscribers lose
    the link, the chat's name and username, and are deactivated (a later
    ``/start`` in that chat is a stranger's); pending notifications and mailing
    deliveries are skipped. Sent history stays. Returns the counts
    ``{"subscribers", "notifications", "deliveries"}``.
    """
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
