"""Bot subscribers and transactional notifications."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    VK = "vk", "VK"
    EMAIL = "email", _("Email")
    CONSOLE = "console", _("Console")


class BotSubscriber(models.Model):
    """A chat that talks to one of our bots; optionally linked to a user."""

    channel = models.CharField(
        _("channel"), max_length=16, choices=[c for c in Channel.choices if c[0] in ("telegram", "vk")]
    )
    chat_id = models.CharField(_("chat id"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bot_subscriptions",
    )
    is_active = models.BooleanField(_("active"), default=True)
    username = models.CharField(_("username"), max_length=150, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    language_code = models.CharField(_("language"), max_length=16, blank=True)
    subscribed_at = models.DateTimeField(_("subscribed at"), auto_now_add=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bot subscriber")
        verbose_name_plural = _("bot subscribers")
        constraints = [models.UniqueConstraint(fields=["channel", "chat_id"], name="botsubscriber_unique_chat")]
        indexes = [models.Index(fields=["channel", "is_active"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}"


class Notification(models.Model):
    """One transactional message to one user; the dedupe key makes it happen once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=64)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class Mailing(models.Model):
    """A broadcast: HTML text, optional media, ordered URL buttons, an audience and channels."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SCHEDULED = "scheduled", _("scheduled")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")

    class Audience(models.TextChoices):
        SUBSCRIBERS = "subscribers", _("all bot subscribers")
        USERS = "users", _("registered users")
        OWNERS = "owners", _("organization owners")
        ACTIVE_OWNERS = "active_owners", _("owners with an active subscription")
        CITY = "city", _("a city")

    class MediaType(models.TextChoices):
        PHOTO = "photo", _("photo")
        ANIMATION = "animation", _("animation")
        VIDEO = "video", _("video")

    CHANNEL_CHOICES = [("telegram", "Telegram"), ("vk", "VK"), ("email", _("Email"))]
    # What the back office may still change (mailings.drafts.mailing_draft_save).
    EDITABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED)
    # What can still be cancelled (services.mailing_cancel).
    CANCELLABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED, Status.SENDING)

    name = models.CharField(_("internal name"), max_length=200)
    text = models.TextField(_("text (HTML)"))
    media = models.FileField(_("media file"), upload_to="mailings/%Y/%m/", blank=True)
    media_type = models.CharField(_("media type"), max_length=16, choices=MediaType.choices, blank=True)
    send_at = models.DateTimeField(_("send at"), help_text=_("Moscow time."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.SUBSCRIBERS)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    city = models.ForeignKey(
        "portal.City", verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    materialized_at = models.DateTimeField(_("recipients listed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Touched by every batch; a sending mailing whose heartbeat stops is resumed.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    total_count = models.PositiveIntegerField(_("recipients"), default=0)
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    # Uploaded once per mailing, then reused by every message.
    telegram_file_id = models.CharField(max_length=255, blank=True, editable=False)
    vk_attachment = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-send_at"]
        indexes = [models.Index(fields=["status", "send_at"])]

    def __str__(self) -> str:
        return self.name


class MailingButton(models.Model):
    mailing = models.ForeignKey(Mailing, verbose_name=_("mailing"), on_delete=models.CASCADE, related_name="buttons")
    text = models.CharField(_("text"), max_length=64)
    url = models.CharField(_("URL"), max_length=500)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("button")
        verbose_name_plural = _("buttons")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class Delivery(models.Model):
    """One message of a mailing to one recipient on one channel (unique)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    mailing = models.ForeignKey(Mailing, verbose_name=_("mailing"), on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=16)
    # "tg:<chat_id>", "vk:<peer_id>", "email:<user_id>": one row per recipient and channel.
    recipient_key = models.CharField(_("recipient"), max_length=80)
    subscriber = models.ForeignKey(
        BotSubscriber, verbose_name=_("subscriber"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    claimed_by = models.CharField(max_length=120, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # VK: the deduplication key of the messages.send call this row went out in.
    batch_key = models.CharField(max_length=40, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["mailing", "channel", "recipient_key"], name="delivery_unique_recipient")
        ]
        indexes = [models.Index(fields=["mailing", "status"]), models.Index(fields=["mailing", "channel", "id"])]

    def __str__(self) -> str:
        return f"{self.mailing_id} → {self.recipient_key}"
