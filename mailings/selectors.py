"""Reads for mailings: audiences (who receives a mailing) and progress."""

from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from mailings.models import BotSubscriber, Delivery, Mailing
from portal.models import User

# Who is in an audience that only an app above mailings knows (organization
# owners, subscribers of a plan…): that app registers a resolver at its
# AppConfig.ready(). A resolver takes the Mailing and returns a queryset of the
# users in the audience; the resolvers of one audience are OR-ed together.
AudienceResolver = Callable[[Mailing], QuerySet[User]]
_audience_resolvers: dict[str, list[AudienceResolver]] = defaultdict(list)


def audience_register(*, audience: str, resolver: AudienceResolver) -> None:
    """Add ``resolver`` to the users of ``audience`` (a Mailing.Audience value); idempotent."""
    if audience not in Mailing.Audience.values:
        raise ValueError(f"unknown mailing audience {audience!r}")
    if resolver not in _audience_resolvers[audience]:
        _audience_resolvers[audience].append(resolver)


def audience_users(*, mailing: Mailing) -> QuerySet[User]:
    """Registered, active, not blocked users in the mailing's audience.

    "users" is everybody; "subscribers" and "city" (users who chose the city)
    are known here; every other audience, and more members of "city", come
    from the resolvers registered by the apps above (see audience_register).
    """
    users = User.objects.active()
    audience = mailing.audience
    if audience == Mailing.Audience.USERS:
        return users
    conditions = [Q(pk__in=resolver(mailing).values("pk")) for resolver in _audience_resolvers[audience]]
    if audience == Mailing.Audience.SUBSCRIBERS:
        conditions.append(Q(pk__in=BotSubscriber.objects.filter(is_active=True).values("user_id")))
    if audience == Mailing.Audience.CITY:
        conditions.append(Q(city_id=mailing.city_id))
    if not conditions:
        raise ImproperlyConfigured(f"No app registered the mailing audience {audience!r}.")
    return users.filter(reduce(or_, conditions))


def audience_subscribers(*, mailing: Mailing, channel: str) -> QuerySet[BotSubscriber]:
    """Active subscribers of ``channel`` in the audience; never a blocked user's chat."""
    subscribers = BotSubscriber.objects.filter(channel=channel, is_active=True).exclude(user__is_blocked=True)
    if mailing.audience == Mailing.Audience.SUBSCRIBERS:
        return subscribers
    return subscribers.filter(user__in=audience_users(mailing=mailing))


def mailing_recipient_rows(*, mailing: Mailing, channel: str) -> Iterator[tuple[str, int | None, int | None]]:
    """Yield ``(recipient_key, subscriber_id, user_id)`` lazily (memory flat in the count)."""
    if channel == "email":
        rows = (
            audience_users(mailing=mailing)
            .exclude(email__isnull=True)
            .exclude(email="")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for user_id in rows.iterator(chunk_size=2000):
            yield f"email:{user_id}", None, user_id
        return
    prefix = "tg" if channel == "telegram" else "vk"
    chats = (
        audience_subscribers(mailing=mailing, channel=channel).order_by("pk").values_list("pk", "chat_id", "user_id")
    )
    for pk, chat_id, user_id in chats.iterator(chunk_size=2000):
        yield f"{prefix}:{chat_id}", pk, user_id


def mailing_progress(*, mailing: Mailing) -> dict[str, Any]:
    """Counts by status, percent done and the send rate (messages per second)."""
    counts: dict[str, Any] = Delivery.objects.filter(mailing=mailing).aggregate(
        total=Count("pk"),
        sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
        skipped=Count("pk", filter=Q(status=Delivery.Status.SKIPPED)),
    )
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    counts["pending"] = counts["total"] - done
    counts["percent"] = round(100 * done / counts["total"]) if counts["total"] else (100 if mailing.finished_at else 0)
    rate = None
    if mailing.started_at and counts["sent"]:
        end = mailing.finished_at or timezone.now()
        seconds = max((end - mailing.started_at).total_seconds(), 0.001)
        rate = round(counts["sent"] / seconds, 1)
    counts["rate"] = rate
    return counts


def mailing_failures(*, mailing: Mailing) -> QuerySet[Delivery]:
    return Delivery.objects.filter(mailing=mailing, status=Delivery.Status.FAILED).order_by("pk")


def subscriber_chat_for(*, user: User, channel: str) -> str | None:
    """The chat of ``user``'s most recent active subscription on ``channel`` ("telegram", "vk"), or None."""
    return (
        BotSubscriber.objects.filter(user=user, channel=channel, is_active=True)
        .order_by("-subscribed_at")
        .values_list("chat_id", flat=True)
        .first()
    )


def mailings_sending_progress() -> list[dict[str, Any]]:
    """Every mailing being sent: its id, last sign of progress and delivery counts by status.

    Two queries whatever the number of mailings (the scrape of /metrics calls it).
    ``progress_at`` is the last heartbeat of a batch, or the start when none has run yet.
    """
    mailings: dict[int, dict[str, Any]] = {
        row["pk"]: {
            "mailing_id": row["pk"],
            "progress_at": row["heartbeat_at"] or row["started_at"],
            "counts": dict.fromkeys(Delivery.Status.values, 0),
        }
        for row in Mailing.objects.filter(status=Mailing.Status.SENDING).values("pk", "heartbeat_at", "started_at")
    }
    if mailings:
        rows = (
            Delivery.objects.filter(mailing_id__in=list(mailings))
            .values("mailing_id", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            mailings[row["mailing_id"]]["counts"][row["status"]] = row["n"]
    return list(mailings.values())
