"""Billing: balances with an append-only ledger, Robokassa payments, plans,
subscriptions and the daily revenue summary."""

from datetime import datetime
from typing import Any, TypedDict

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class _Money(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _Money = {"max_digits": 12, "decimal_places": 2}


class Balance(models.Model):
    """One row per user; written only by ``billing.services`` under a row lock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="balance",
    )
    amount = models.DecimalField(_("balance"), default=0, **MONEY)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="billing_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.user}: {self.amount}"


class LedgerEntry(models.Model):
    """An append-only record of one balance change (signed ``amount``)."""

    class Kind(models.TextChoices):
        TOPUP = "topup", _("top-up")
        GRANT = "grant", _("staff grant")
        SUBSCRIPTION_CHARGE = "subscription_charge", _("subscription charge")
        REFUND = "refund", _("refund")
        REFERRAL_BONUS = "referral_bonus", _("referral bonus")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    balance_after = models.DecimalField(_("balance after"), **MONEY)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    content_object = GenericForeignKey("content_type", "object_id")
    description = models.CharField(_("reason / description"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="billing_ledger_user_created")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_ledger_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="billing_ledger_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Ledger entries are append-only.")


class Payment(models.Model):
    """A Robokassa top-up. Its primary key is the ``InvId`` sent to Robokassa."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("not paid: expired")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    description = models.CharField(_("description"), max_length=100, blank=True)
    ledger_entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("ledger entry"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_amount_positive")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount} ({self.get_status_display()})"

    @property
    def inv_id(self) -> int:
        return self.pk


class PaymentCallback(models.Model):
    """Every request Robokassa (or someone pretending) made to us, kept for audit."""

    class Kind(models.TextChoices):
        RESULT = "result", _("result")
        SUCCESS = "success", _("success")
        FAIL = "fail", _("fail")

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, null=True, blank=True, related_name="callbacks"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    params = models.JSONField(_("parameters"), default=dict)
    remote_addr = models.CharField(_("IP address"), max_length=64, blank=True)
    is_valid = models.BooleanField(_("valid"), default=False)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment callback")
        verbose_name_plural = _("payment callbacks")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class Plan(models.Model):
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    price = models.DecimalField(_("price"), **MONEY)
    period_months = models.PositiveIntegerField(_("period, months"), default=1)
    period_days = models.PositiveIntegerField(_("period, days"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["position", "price", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="billing_plan_price_positive"),
            models.CheckConstraint(
                condition=Q(period_months__gt=0) | Q(period_days__gt=0), name="billing_plan_period_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def period_end(self, start: datetime) -> datetime:
        return start + relativedelta(months=self.period_months, days=self.period_days)


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def in_force(self, *, now: datetime | None = None) -> "SubscriptionQuerySet":
        """Paid up right now: active, or cancelled but still inside the paid period."""
        now = now or timezone.now()
        return self.filter(
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.CANCELLED], current_period_end__gt=now
        )


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    organization = models.ForeignKey(
        "catalog.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    auto_renew = models.BooleanField(_("auto-renew"), default=True)
    current_period_start = models.DateTimeField(_("period start"))
    current_period_end = models.DateTimeField(_("period end"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("bought by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(status="active"), name="billing_one_active_subscription"
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=models.F("current_period_start")),
                name="billing_subscription_period_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} — {self.plan}"


class RevenueDay(models.Model):
    """Daily revenue figures (Moscow days), kept up to date by ``snapshot_revenue``."""

    date = models.DateField(_("date"), unique=True)
    topups = models.DecimalField(_("top-ups"), default=0, **MONEY)
    topups_count = models.PositiveIntegerField(_("top-ups, count"), default=0)
    charges = models.DecimalField(_("subscription charges"), default=0, **MONEY)
    charges_count = models.PositiveIntegerField(_("charges, count"), default=0)
    grants = models.DecimalField(_("grants"), default=0, **MONEY)
    refunds = models.DecimalField(_("refunds"), default=0, **MONEY)
    referral_bonuses = models.DecimalField(_("referral bonuses"), default=0, **MONEY)
    new_subscriptions = models.PositiveIntegerField(_("new subscriptions"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("revenue day")
        verbose_name_plural = _("revenue days")
        ordering = ["-date"]

    def __str__(self) -> str:
        return str(self.date)


class RevenueReport(RevenueDay):
    """The revenue dashboard's entry in the admin (a proxy: no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("revenue dashboard")
        verbose_name_plural = _("revenue dashboard")
