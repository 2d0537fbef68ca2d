"""Accounts: the custom user model (email is the login) and the cities users and
organizations belong to."""

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class City(models.Model):
    """A city: shared reference data for users (their city), the catalog and mailings.

    It lives here, at the bottom of the layers, because ``User.city`` points to it.
    """

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow", help_text=_("IANA name"))

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class UserQuerySet(models.QuerySet["User"]):
    def active(self) -> "UserQuerySet":
        """Users who may use the product: active and not blocked."""
        return self.filter(is_active=True, is_blocked=False)


_UserManagerBase = BaseUserManager.from_queryset(UserQuerySet)


class UserManager(_UserManagerBase["User"]):
    use_in_migrations = True

    def _create_user(self, email: str | None, password: str | None, **extra_fields: Any) -> "User":
        email = self.normalize_email(email) if email else None
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str | None = None, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str | None, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    # Users created from a Mini App have no email until they add one, so the
    # column is nullable; uniqueness still holds for every email that is set.
    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    city = models.ForeignKey(
        City, verbose_name=_("city"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    avatar = models.ImageField(_("avatar"), upload_to="avatars/%Y/%m/", blank=True)
    avatar_thumbnail = models.ImageField(_("avatar thumbnail"), upload_to="avatars/thumbs/%Y/%m/", blank=True)

    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    is_blocked = models.BooleanField(_("blocked"), default=False, db_index=True)
    blocked_reason = models.TextField(_("reason for blocking"), blank=True)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    blocked_by = models.ForeignKey(
        "self", verbose_name=_("blocked by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_verified = models.BooleanField(_("verified"), default=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        "self", verbose_name=_("verified by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["-date_joined"]
        indexes = [
            # Emails are looked up case-insensitively (login, referral lookup,
            # booking invitations, CSV owners): email__iexact is UPPER(email) = UPPER(%s).
            models.Index(Upper("email"), name="user_email_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email or f"#{self.pk}"

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or (self.email or "")


class TelegramLinkToken(models.Model):
    """A one-time token that links a Telegram chat to a site account.

    Only a SHA-256 digest of the token is stored: the token itself travels in the
    deep link ``https://t.me/<bot>?start=link_<token>`` and is never kept.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="telegram_link_tokens"
    )
    token_hash = models.CharField(_("token digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    telegram_id = models.CharField(_("Telegram user id"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("Telegram link token")
        verbose_name_plural = _("Telegram link tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d %H:%M})"


class SecurityEvent(models.Model):
    """One line of the security audit log (append-only: written by
    ``portal.services.security_event_record``, read in the admin)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("signed in")
        LOGIN_FAILED = "login_failed", _("sign-in failed")
        LOCKOUT = "lockout", _("locked out after failed sign-ins")
        MFA_ACTIVATED = "mfa_activated", _("two-factor authentication activated")
        MFA_DEACTIVATED = "mfa_deactivated", _("two-factor authentication deactivated")
        MFA_FAILED = "mfa_failed", _("wrong two-factor code")
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", _("recovery codes generated")
        RECOVERY_CODE_USED = "recovery_code_used", _("recovery code used")
        USER_BLOCKED = "user_blocked", _("user blocked")
        USER_UNBLOCKED = "user_unblocked", _("user unblocked")
        USER_VERIFIED = "user_verified", _("user verified")
        USER_UNVERIFIED = "user_unverified", _("verification withdrawn")
        BALANCE_GRANTED = "balance_granted", _("balance granted")
        MAILING_SENT = "mailing_sent", _("mailing sent")

    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        help_text=_("Whose account the event is about."),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("done by"),
        help_text=_("The staff member who did it, for back-office actions."),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "-created_at"], name="portal_secevent_kind_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M:%S}"
