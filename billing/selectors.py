"""Billing reads used by pages, the API, the admin and other apps."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from billing.models import Balance, LedgerEntry, Payment, Plan, RevenueDay, Subscription
from catalog.models import Organization
from mailings.models import Mailing
from portal.models import User

Kind = LedgerEntry.Kind


def balance_get(*, user: User) -> Decimal:
    """The user's balance (0.00 when they never had one)."""
    amount = Balance.objects.filter(user_id=user.pk).values_list("amount", flat=True).first()
    return amount if amount is not None else Decimal("0.00")


def ledger_sum(*, user: User) -> Decimal:
    return LedgerEntry.objects.filter(user_id=user.pk).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


def ledger_list(*, user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def plans_active() -> QuerySet[Plan]:
    return Plan.objects.filter(is_active=True).order_by("position", "price", "pk")


def subscription_list(*, user: User) -> QuerySet[Subscription]:
    """Subscriptions of the user's organizations, newest first."""
    return (
        Subscription.objects.filter(organization__owner_id=user.pk)
        .select_related("plan", "organization", "organization__city")
        .order_by("-created_at", "-pk")
    )


def payment_list(*, user: User) -> QuerySet[Payment]:
    return Payment.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def users_with_active_subscription() -> QuerySet[User]:
    """Owners of organizations with a paid-up subscription (active, or cancelled but in its period)."""
    User = get_user_model()
    owner_ids = Subscription.objects.in_force().values("organization__owner_id")
    return User.objects.filter(pk__in=owner_ids)


def mailing_audience_active_owners(mailing: Mailing) -> QuerySet[User]:
    """Mailing audience "active_owners" (a resolver registered with mailings in BillingConfig.ready())."""
    return users_with_active_subscription()


def organizations_without_subscription(*, user: User) -> QuerySet[Organization]:
    """The user's organizations with no paid-up subscription: the ones they can buy one for."""
    in_force = Subscription.objects.in_force().filter(organization__owner_id=user.pk).values("organization_id")
    return Organization.objects.filter(owner_id=user.pk).exclude(pk__in=in_force).order_by("name")


def organization_subscription(*, organization: Organization) -> Subscription | None:
    """The organization's current subscription, if it is paid up."""
    return (
        Subscription.objects.in_force()
        .filter(organization_id=organization.pk)
        .select_related("plan")
        .order_by("-current_period_end")
        .first()
    )


# --- Revenue dashboard ---------------------------------------------------------

FIELDS = ("topups", "charges", "grants")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start and end of a Moscow day (the site's time zone)."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def revenue_figures(*, start: datetime, end: datetime) -> dict[date, dict[str, Any]]:
    """Per-day revenue straight from the ledger for [start, end) (Moscow days)."""
    tz = timezone.get_default_timezone()
    days: dict[date, dict[str, Any]] = {}

    def row(day: date) -> dict[str, Any]:
        return days.setdefault(
            day,
            {
                "topups": Decimal(0),
                "topups_count": 0,
                "charges": Decimal(0),
                "charges_count": 0,
                "grants": Decimal(0),
                "refunds": Decimal(0),
                "referral_bonuses": Decimal(0),
                "new_subscriptions": 0,
            },
        )

    ledger = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "kind")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by()
    )
    for item in ledger:
        values = row(item["day"])
        total = item["total"] or Decimal(0)
        if item["kind"] == Kind.TOPUP:
            values["topups"] += total
            values["topups_count"] += item["n"]
        elif item["kind"] == Kind.SUBSCRIPTION_CHARGE:
            values["charges"] += -total
            values["charges_count"] += item["n"]
        elif item["kind"] == Kind.GRANT:
            values["grants"] += total
        elif item["kind"] == Kind.REFUND:
            values["refunds"] += total
        elif item["kind"] == Kind.REFERRAL_BONUS:
            values["referral_bonuses"] += total
    subscriptions = (
        Subscription.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for created in subscriptions:
        row(created["day"])["new_subscriptions"] += created["n"]
    return days


def _live_day(day: date) -> dict[str, Any]:
    start, end = day_bounds(day)
    return revenue_figures(start=start, end=end).get(day, {})


def revenue_dashboard(*, today: date | None = None) -> dict[str, Any]:
    """Figures for the admin dashboard, read from the daily summary (≤ ~100 rows) plus today live."""
    today = today or timezone.localdate()
    day_from = today - timedelta(days=89)
    rows = {
        row.date: row
        for row in RevenueDay.objects.filter(date__gte=day_from, date__lt=today).only(
            "date", "topups", "topups_count", "charges", "charges_count", "grants", "new_subscriptions"
        )
    }
    live = _live_day(today)
    daily: list[dict[str, Any]] = []
    values: dict[str, Any]
    for offset in range(90):
        day = day_from + timedelta(days=offset)
        if day == today:
            values = {f: live.get(f, Decimal(0)) for f in FIELDS}
            values["new_subscriptions"] = live.get("new_subscriptions", 0)
            values["topups_count"] = live.get("topups_count", 0)
        else:
            row = rows.get(day)
            values = {f: getattr(row, f) if row else Decimal(0) for f in FIELDS}
            values["new_subscriptions"] = row.new_subscriptions if row else 0
            values["topups_count"] = row.topups_count if row else 0
        daily.append({"date": day, **values})

    month_from = today.replace(day=1) - relativedelta(months=11)
    monthly_rows = (
        RevenueDay.objects.filter(date__gte=month_from, date__lt=today)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(
            topups=Sum("topups"),
            charges=Sum("charges"),
            grants=Sum("grants"),
            topups_count=Sum("topups_count"),
            new_subscriptions=Sum("new_subscriptions"),
        )
        .order_by("month")
    )
    by_month = {row["month"]: row for row in monthly_rows}
    monthly: list[dict[str, Any]] = []
    month = month_from
    for _ in range(12):
        sums: Mapping[str, Any] = by_month.get(month) or {}
        values = {f: sums.get(f) or Decimal(0) for f in FIELDS}
        values["topups_count"] = sums.get("topups_count") or 0
        values["new_subscriptions"] = sums.get("new_subscriptions") or 0
        if month == today.replace(day=1):
            for f in FIELDS:
                values[f] += live.get(f, Decimal(0))
            values["topups_count"] += live.get("topups_count", 0)
            values["new_subscriptions"] += live.get("new_subscriptions", 0)
        monthly.append({"month": month, **values})
        month = month + relativedelta(months=1)

    totals = RevenueDay.objects.aggregate(
        topups=Sum("topups"),
        charges=Sum("charges"),
        grants=Sum("grants"),
        topups_count=Sum("topups_count"),
        new_subscriptions=Sum("new_subscriptions"),
    )
    # The summary may already hold today's partial row: replace it by the live figures.
    today_row = RevenueDay.objects.filter(date=today).first()
    total: dict[str, Any] = {}
    for f in (*FIELDS, "topups_count", "new_subscriptions"):
        value = totals.get(f) or 0
        if today_row is not None:
            value -= getattr(today_row, f)
        total[f] = value + live.get(f, 0)
    total["average_check"] = (
        (Decimal(total["topups"]) / total["topups_count"]).quantize(Decimal("0.01")) if total["topups_count"] else None
    )
    period_90: dict[str, Any] = {f: sum((d[f] for d in daily), Decimal(0)) for f in FIELDS}
    period_90["new_subscriptions"] = sum(d["new_subscriptions"] for d in daily)
    period_90["topups_count"] = sum(d["topups_count"] for d in daily)
    period_90["average_check"] = (
        (period_90["topups"] / period_90["topups_count"]).quantize(Decimal("0.01"))
        if period_90["topups_count"]
        else None
    )
    return {
        "today": today,
        "daily": daily,
        "monthly": monthly,
        "total": total,
        "period_90": period_90,
        "active_subscriptions": Subscription.objects.filter(
            status=Subscription.Status.ACTIVE, current_period_end__gt=timezone.now()
        ).count(),
        "subscriptions_by_plan": list(
            Subscription.objects.filter(status=Subscription.Status.ACTIVE, current_period_end__gt=timezone.now())
            .values("plan__name")
            .annotate(n=Count("pk"))
            .order_by("-n")
        ),
    }
