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
