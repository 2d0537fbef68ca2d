"""Referral codes and the referrals recorded with them."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.models import User

# No 0/O, 1/I/L: codes are read aloud and typed from screenshots.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class ReferralCodeQuerySet(models.QuerySet["ReferralCode"]):
    def usable(self) -> "ReferralCodeQuerySet":
        """Codes that can be used right now: active and not expired."""
        return self.filter(is_active=True, expires_at__gt=timezone.now())

    def for_user(self, user: "User") -> "ReferralCodeQuerySet":
        return self.filter(user=user)


class ReferralCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="referral_codes",
    )
    # Stored upper-case (the services normalise input); the check constraint
    # and the unique index on UPPER(code) make lookups case-insensitive.
    code = models.CharField(_("code"), max_length=32)
    expires_at = models.DateTimeField(_("expires at"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ReferralCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="referrals_code_upper_unique"),
            models.CheckConstraint(condition=Q(code=Upper("code")), name="referrals_code_is_upper"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="referrals_one_active_code_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.is_active and not self.is_expired


class Referral(models.Model):
    class Source(models.TextChoices):
        SITE = "site", _("Website signup")
        API = "api", _("API")
        MINIAPP = "miniapp", _("Telegram Mini App")
        BOT = "bot", _("Telegram bot")

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referrer"),
        on_delete=models.CASCADE,
        related_name="referrals_made",
    )
    # One referrer per user, ever.
    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("referred user"),
        on_delete=models.CASCADE,
        related_name="referral",
    )
    code = models.ForeignKey(
        ReferralCode,
        verbose_name=_("code"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    code_text = models.CharField(_("code used"), max_length=32)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(_("joined at"), default=timezone.now, db_index=True)
    bonus_paid_at = models.DateTimeField(_("bonus paid at"), null=True, blank=True)
    bonus_amount = models.DecimalField(_("bonus amount"), max_digits=12, decimal_places=2, null=True, blank=True)

    # Set by the "my referrals" page for its template (referrals.services.referred_display_name).
    referred_name: str

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("referred")), name="referrals_no_self_referral"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.referred}"
