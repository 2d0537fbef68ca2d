"""Reads for referrals that are more than one filter."""

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from portal.models import User
from referrals import lookup_cache
from referrals.models import Referral, ReferralCode


def referral_code_lookup_by_email(*, email: str) -> lookup_cache.CachedCode | None:
    """The active, unexpired code of the active, unblocked user with ``email``.

    Returns ``{"code", "expires_at"}`` or None — the same None whether the email
    is unknown, the user is blocked or has no usable code. Cached (see
    ``referrals.lookup_cache``).
    """
    email = lookup_cache.normalize_email(email)
    cached = lookup_cache.get(email)
    if cached == lookup_cache.MISSING:
        return None
    if cached is not None and cached["expires_at"] > timezone.now():
        return {"code": cached["code"], "expires_at": cached["expires_at"]}

    users = User.objects.active().filter(email__iexact=email)
    code = ReferralCode.objects.usable().filter(user__in=users).only("code", "expires_at").first()
    if code is None:
        lookup_cache.set_missing(email)
        return None
    value: lookup_cache.CachedCode = {"code": code.code, "expires_at": code.expires_at}
    lookup_cache.set_found(email, value, (code.expires_at - timezone.now()).total_seconds())
    return value


def referral_code_list_for_user(*, user: User) -> QuerySet[ReferralCode]:
    return (
        ReferralCode.objects.filter(user=user)
        .annotate(referrals_count=Count("referrals"))
        .order_by("-is_active", "-created_at", "-pk")
    )


def referral_list_for_user(*, user: User) -> QuerySet[Referral]:
    """Who joined with ``user``'s codes, newest first."""
    return Referral.objects.filter(referrer=user).select_related("referred").order_by("-created_at", "-pk")


def referral_totals_for_user(*, user: User) -> dict[str, Any]:
    totals = Referral.objects.filter(referrer=user).aggregate(
        total=Count("pk"),
        bonus_paid=Count("pk", filter=Q(bonus_paid_at__isnull=False)),
        bonus_total=Sum("bonus_amount"),
    )
    return {
        "total": totals["total"] or 0,
        "bonus_paid": totals["bonus_paid"] or 0,
        "bonus_total": totals["bonus_total"] or Decimal("0.00"),
    }
