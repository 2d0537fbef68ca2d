"""Billing services: every balance change, payment, subscription and revenue write.

Balance changes lock the user's Balance row (created on first use) and append
one LedgerEntry in the same transaction, so the balance always equals the sum
of the ledger and a CheckConstraint keeps it from going negative.
"""

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import robokassa, tasks
from billing.models import MONEY, Balance, LedgerEntry, Payment, PaymentCallback, Plan, RevenueDay, Subscription
from billing.selectors import balance_get, day_bounds, revenue_figures
from billing.signals import topup_paid
from catalog.models import Organization
from catalog.selectors import organizations_managed_by
from catalog.services import listing_extend
from mailings.services import notify, notify_staff
from portal import errors, metrics
from portal.formatting import datetime_format, money_format
from portal.models import SecurityEvent, User
from portal.services import actor_ensure_active, security_event_record

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
CREDIT_KINDS = {Kind.TOPUP, Kind.GRANT, Kind.REFUND, Kind.REFERRAL_BONUS}
DEBIT_KINDS = {Kind.SUBSCRIPTION_CHARGE, Kind.GRANT}
CENT = Decimal("0.01")
# The largest amount a money column (12 digits, 2 of them decimals) can hold, exclusive.
MONEY_LIMIT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"])


# --- Balance and ledger -------------------------------------------------------


def money(value: object, *, field: str = "amount") -> Decimal:
    """Parse a positive amount with at most 2 decimal places, or raise ValidationError."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError, TypeError):
        raise errors.ValidationError(_("Enter a valid amount."), code="invalid_amount", extra={"field": field})
    if not amount.is_finite() or abs(amount) >= MONEY_LIMIT:
        # Also keeps quantize() below from overflowing the decimal context on huge input.
        raise errors.ValidationError(_("Enter a valid amount."), code="invalid_amount", extra={"field": field})
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise errors.ValidationError(_("Use at most 2 decimal places."), code="invalid_amount", extra={"field": field})
    return amount.quantize(CENT)


def _balance_locked(user_id: int) -> Balance:
    """Lock (creating it if needed) the user's Balance row inside the current transaction."""
    try:
        return Balance.objects.select_for_update().get(user_id=user_id)
    except Balance.DoesNotExist:
        # INSERT … ON CONFLICT DO NOTHING: two first-time writers cannot both create it.
        Balance.objects.bulk_create([Balance(user_id=user_id)], ignore_conflicts=True)
        return Balance.objects.select_for_update().get(user_id=user_id)


def _ledger_apply(
    *,
    user: User,
    delta: Decimal,
    kind: str,
    reference: str,
    description: str,
    created_by: User | None,
    idempotency_key: str | None,
    content_object: models.Model | None = None,
) -> LedgerEntry:
    if idempotency_key:
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    balance = _balance_locked(user.pk)
    if idempotency_key:
        # Re-check under the lock: a concurrent call with the same key has committed by now.
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    new_amount = balance.amount + delta
    if new_amount < 0:
        raise errors.InsufficientFunds(
            _("Not enough money on the balance."),
            extra={"balance": f"{balance.amount:.2f}", "required": f"{-delta:.2f}"},
        )
    balance.amount = new_amount
    balance.save(update_fields=["amount", "updated_at"])
    entry = LedgerEntry(
        user=user,
        kind=kind,
        amount=delta,
        balance_after=new_amount,
        reference=reference[:200],
        description=description[:500],
        created_by=created_by,
        idempotency_key=idempotency_key or None,
    )
    if content_object is not None:
        entry.content_type = ContentType.objects.get_for_model(content_object)
        entry.object_id = content_object.pk
    entry.save()
    return entry


@transaction.atomic
def balance_credit(
    *,
    user: User,
    amount: Decimal,
    kind: str,
    reference: str = "",
    description: str = "",
    created_by: User | None = None,
    idempotency_key: str | None = None,
    content_object: models.Model | None = None,
) -> LedgerEntry:
    """Add ``amount`` (> 0) to the user's balance and record it in the ledger.

    ``kind``: topup, grant, refund or referral_bonus. A repeated call with the
    same ``idempotency_key`` returns the existing entry and changes nothing.
    """
    if kind not in CREDIT_KINDS:
        raise errors.ValidationError(_("This kind of entry cannot credit a balance."), code="invalid_kind")
    amount = money(amount)
    if amount <= 0:
        raise errors.ValidationError(_("The amount must be positive."), code="invalid_amount")
    return _ledger_apply(
        user=user,
        delta=amount,
        kind=kind,
        reference=reference,
        description=description,
        created_by=created_by,
        idempotency_key=idempotency_key,
        content_object=content_object,
    )


@transaction.atomic
def balance_debit(
    *,
    user: User,
    amount: Decimal,
    kind: str,
    reference: str = "",
    description: str = "",
    created_by: User | None = None,
    idempotency_key: str | None = None,
    content_object: models.Model | None = None,
) -> LedgerEntry:
    """Take ``amount`` (> 0) from the user's balance; InsufficientFunds (409) if it would go negative.

    ``kind``: subscription_charge or grant (a staff correction). Idempotent by key.
    """
    if kind not in DEBIT_KINDS:
        raise errors.ValidationError(_("This kind of entry cannot debit a balance."), code="invalid_kind")
    amount = money(amount)
    if amount <= 0:
        raise errors.ValidationError(_("The amount must be positive."), code="invalid_amount")
    return _ledger_apply(
        user=user,
        delta=-amount,
        kind=kind,
        reference=reference,
        description=description,
        created_by=created_by,
        idempotency_key=idempotency_key,
        content_object=content_object,
    )


@transaction.atomic
def balance_grant(*, user: User, amount: Decimal, reason: str, created_by: User | None) -> LedgerEntry:
    """A staff grant: positive adds, negative corrects (never below zero). Recorded with the staff user."""
    amount = money(amount)
    reason = (reason or "").strip()
    if not reason:
        raise errors.ValidationError(_("Give a reason for the grant."), code="reason_required")
    if amount == 0:
        raise errors.ValidationError(_("The amount cannot be zero."), code="invalid_amount")
    if created_by is None or not created_by.is_staff:
        raise errors.PermissionDenied(_("Only staff can grant balance."))
    reference = f"grant:{created_by.pk}"
    if amount > 0:
        entry = balance_credit(
            user=user, amount=amount, kind=Kind.GRANT, reference=reference, description=reason, created_by=created_by
        )
    else:
        entry = balance_debit(
            user=user, amount=-amount, kind=Kind.GRANT, reference=reference, description=reason, created_by=created_by
        )
    security_event_record(
        kind=SecurityEvent.Kind.BALANCE_GRANTED,
        user=user,
        actor=created_by,
        details={"amount": str(entry.amount), "balance_after": str(entry.balance_after), "reason": reason},
    )
    return entry


# --- Robokassa payments -----------------------------------------------------------


def topup_limits() -> tuple[Decimal, Decimal]:
    return Decimal(str(settings.TOPUP_MIN_AMOUNT)), Decimal(str(settings.TOPUP_MAX_AMOUNT))


def topup_amount_validate(value: object) -> Decimal:
    amount = money(value)
    low, high = topup_limits()
    if amount < low or amount > high:
        raise errors.ValidationError(
            _("Top up between %(min)s and %(max)s ₽.") % {"min": f"{low:.2f}", "max": f"{high:.2f}"},
            code="invalid_amount",
            extra={"field": "amount"},
        )
    return amount


@transaction.atomic
def payment_create(*, user: User, amount: object) -> Payment:
    """Create a pending Robokassa top-up; its pk is the InvId (see ``payment_url_for``)."""
    amount = topup_amount_validate(amount)
    return Payment.objects.create(user=user, amount=amount, description=_("Citydesk balance top-up"))


def payment_expires_at(payment: Payment) -> datetime:
    """When a pending top-up stops waiting for its payment (ROBOKASSA_PENDING_TTL minutes after creation)."""
    return payment.created_at + timedelta(minutes=settings.ROBOKASSA_PENDING_TTL)


def payments_expire_pending(*, now: datetime | None = None) -> int:
    """Mark top-ups that stayed pending longer than ROBOKASSA_PENDING_TTL as expired; returns how many.

    One conditional UPDATE: a payment whose ResultURL callback holds its row
    lock is re-read after the lock and, being paid by then, is left alone.
    A callback that arrives after the expiry still credits the payment (the
    money was taken), turning it paid. Safe to run any number of times.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ROBOKASSA_PENDING_TTL)
    return Payment.objects.filter(status=Payment.Status.PENDING, created_at__lt=cutoff).update(
        status=Payment.Status.EXPIRED, expired_at=now
    )


def payment_url_for(payment: Payment) -> str:
    return robokassa.payment_url(amount=payment.amount, inv_id=payment.pk, description=payment.description)


def _storable(value: object, limit: int) -> str:
    """Text PostgreSQL can store (no NUL, which text and jsonb refuse), cut to ``limit``."""
    return str(value).replace("\x00", "\ufffd")[:limit]


def _callback_record(
    *,
    kind: str,
    params: Mapping[str, Any],
    remote_addr: str,
    payment: Payment | None = None,
    is_valid: bool = False,
    error: str = "",
) -> None:
    # A callback is anyone's request: whatever it carries is recorded, never a 500.
    PaymentCallback.objects.create(
        payment=payment,
        kind=kind,
        params={_storable(k, 64): _storable(v, 500) for k, v in list(params.items())[:50]},
        remote_addr=_storable(remote_addr or "", 64),
        is_valid=is_valid,
        error=_storable(error, 200),
    )


def inv_id_of(params: Mapping[str, Any]) -> int | None:
    """The ``InvId`` of a request as a number, or None when it is missing or not one."""
    raw = str(params.get("InvId") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _payment_named(params: Mapping[str, Any]) -> Payment | None:
    """The payment a (possibly rejected) callback names, so its audit record shows on it."""
    inv_id = inv_id_of(params)
    return Payment.objects.filter(pk=inv_id).first() if inv_id is not None else None


def _parse_callback(params: Mapping[str, Any], *, password: int) -> tuple[str, int, str, dict[str, str]]:
    out_sum = str(params.get("OutSum") or "").strip()
    inv_id_raw = str(params.get("InvId") or "").strip()
    received = str(params.get("SignatureValue") or "").strip()
    if not out_sum or not inv_id_raw or not received:
        raise errors.ValidationError("missing OutSum, InvId or SignatureValue", code="bad_callback")
    shp = robokassa.shp_params(params)
    if password == 2:
        expected = robokassa.result_signature(out_sum=out_sum, inv_id=inv_id_raw, shp=shp)
    else:
        expected = robokassa.success_signature(out_sum=out_sum, inv_id=inv_id_raw, shp=shp)
    if not robokassa.signature_matches(expected, received):
        raise errors.ValidationError("bad signature", code="bad_signature")
    try:
        inv_id = int(inv_id_raw)
    except ValueError:
        raise errors.ValidationError("bad InvId", code="bad_callback")
    return out_sum, inv_id, received, shp


def payment_result(*, params: Mapping[str, Any], remote_addr: str = "") -> Payment:
    """Handle Robokassa's ResultURL callback: verify, then mark paid and credit exactly once.

    Any problem (missing params, bad signature, unknown InvId, wrong amount)
    raises ValidationError and changes nothing but the audit log. Repeated and
    concurrent callbacks serialise on the Payment row lock; only the first one
    credits, the others see ``paid`` and return the payment.
    """
    try:
        with transaction.atomic():
            out_sum, inv_id, _sig, _shp = _parse_callback(params, password=2)
            try:
                amount = Decimal(out_sum)
            except InvalidOperation:
                raise errors.ValidationError("bad OutSum", code="bad_callback")
            payment = Payment.objects.select_for_update().filter(pk=inv_id).first()
            if payment is None:
                raise errors.ValidationError("unknown InvId", code="unknown_invoice")
            if not amount.is_finite() or amount != payment.amount:
                raise errors.ValidationError("amount mismatch", code="amount_mismatch")
            _callback_record(kind="result", params=params, remote_addr=remote_addr, payment=payment, is_valid=True)
            if payment.status == Payment.Status.PAID:
                return payment
            # Pending, or expired while the user was still paying: the money was taken, so it is credited.
            _payment_mark_paid(payment=payment)
            return payment
    except errors.DomainError as exc:
        _callback_record(
            kind="result", params=params, remote_addr=remote_addr, payment=_payment_named(params), error=exc.message
        )
        metrics.payments_total.labels(status="rejected").inc()
        raise


def _payment_mark_paid(*, payment: Payment) -> None:
    entry = balance_credit(
        user=payment.user,
        amount=payment.amount,
        kind=Kind.TOPUP,
        reference=f"robokassa:{payment.pk}",
        description=_("Top-up through Robokassa, invoice %(inv)s") % {"inv": payment.pk},
        idempotency_key=f"topup:{payment.pk}",
        content_object=payment,
    )
    is_first = not Payment.objects.filter(user_id=payment.user_id, status=Payment.Status.PAID).exists()
    payment.status = Payment.Status.PAID
    payment.paid_at = timezone.now()
    payment.ledger_entry = entry
    payment.save(update_fields=["status", "paid_at", "ledger_entry"])
    topup_paid.send(sender=Payment, payment=payment, user=payment.user, is_first_topup=is_first)
    notify(
        user=payment.user,
        kind="topup_received",
        context={
            "amount": money_format(payment.amount),
            "balance": money_format(entry.balance_after),
            "invoice_id": payment.pk,
        },
        dedupe_key=f"topup:{payment.pk}:user",
    )
    payment_id = payment.pk
    transaction.on_commit(lambda: tasks.notify_staff_topup.delay(payment_id))
    metrics.count_after_commit(metrics.payments_total, status="paid")


def payment_success_check(*, params: Mapping[str, Any], remote_addr: str = "") -> Payment | None:
    """Verify the SuccessURL redirect (Password1 signature) and keep it for audit. Never credits anything.

    A bad or incomplete redirect raises ValidationError (recorded as rejected).
    """
    try:
        _out_sum, inv_id, _sig, _shp = _parse_callback(params, password=1)
    except errors.DomainError as exc:
        _callback_record(
            kind="success", params=params, remote_addr=remote_addr, payment=_payment_named(params), error=exc.message
        )
        raise
    payment = Payment.objects.filter(pk=inv_id).first()
    _callback_record(kind="success", params=params, remote_addr=remote_addr, payment=payment, is_valid=True)
    return payment


def payment_notify_staff(*, payment_id: int) -> None:
    payment = Payment.objects.select_related("user").get(pk=payment_id)
    if payment.status != Payment.Status.PAID:
        return
    notify_staff(
        kind="topup_paid",
        context={
            "invoice_id": payment.pk,
            "amount": money_format(payment.amount),
            "user_email": payment.user.email,
            "user_id": payment.user_id,
        },
        dedupe_key=f"topup:{payment.pk}",
    )


def _notice_datetime(value: datetime, organization: Organization) -> str:
    """A moment for a notification text: in the organization's city zone, in the site language."""
    return datetime_format(value, zone=organization.city.tzinfo, language=settings.LANGUAGE_CODE)


# --- Plans and subscriptions -------------------------------------------------------


@transaction.atomic
def subscription_create(*, user: User, organization_id: int, plan_id: int) -> Subscription:
    """Buy ``plan`` for an organization ``user`` manages: charge the owner's balance and extend the listing.

    The owner pays, whoever acts (staff may buy for an owner, as they may manage
    any organization; the ledger entry records who did): renewals charge the
    same balance. An organization ``user`` may not manage → NotFound; an active
    subscription already → Conflict; not enough money → InsufficientFunds
    (nothing changes). A paid period left over from a cancelled subscription is
    not lost: the new one starts when it ends.
    """
    actor_ensure_active(user)
    organization = (
        organizations_managed_by(user=user)
        .select_for_update()
        .select_related("owner")
        .filter(pk=organization_id)
        .first()
    )
    if organization is None:
        raise errors.NotFound(_("Organization not found."))
    plan = Plan.objects.filter(pk=plan_id, is_active=True).first()
    if plan is None:
        raise errors.ValidationError(_("Choose an available plan."), code="invalid_plan", extra={"field": "plan"})
    if Subscription.objects.filter(organization=organization, status=Subscription.Status.ACTIVE).exists():
        raise errors.Conflict(_("This organization already has an active subscription."), code="already_subscribed")
    now = timezone.now()
    start = now
    paid_until = (
        Subscription.objects.in_force(now=now)
        .filter(organization=organization)
        .order_by("-current_period_end")
        .values_list("current_period_end", flat=True)
        .first()
    )
    if paid_until and paid_until > start:
        start = paid_until
    subscription = Subscription.objects.create(
        organization=organization,
        plan=plan,
        current_period_start=start,
        current_period_end=plan.period_end(start),
        created_by=user,
        created_at=now,
    )
    balance_debit(
        user=organization.owner,
        amount=plan.price,
        kind=Kind.SUBSCRIPTION_CHARGE,
        reference=f"subscription:{subscription.pk}",
        description=_("Subscription «%(plan)s» for «%(org)s»") % {"plan": plan.name, "org": organization.name},
        created_by=user if user.pk != organization.owner_id else None,
        idempotency_key=f"subscription:{subscription.pk}:period:{start.isoformat()}",
        content_object=subscription,
    )
    listing_extend(organization=organization, until=subscription.current_period_end)
    return subscription


@transaction.atomic
def subscription_cancel(*, user: User, subscription_id: int) -> Subscription:
    """Turn off renewal; the organization stays listed until the paid period ends.

    ``user`` must be able to manage the organization (``organization_can_manage``); NotFound otherwise.
    """
    actor_ensure_active(user)
    subscription = (
        Subscription.objects.select_for_update()
        .filter(pk=subscription_id, organization__in=organizations_managed_by(user=user))
        .select_related("organization")
        .first()
    )
    if subscription is None:
        raise errors.NotFound(_("Subscription not found."))
    if subscription.status != Subscription.Status.ACTIVE:
        raise errors.Conflict(_("This subscription is not active."), code="not_active")
    subscription.status = Subscription.Status.CANCELLED
    subscription.auto_renew = False
    subscription.cancelled_at = timezone.now()
    subscription.save(update_fields=["status", "auto_renew", "cancelled_at"])
    return subscription


@transaction.atomic
def subscriptions_cancel_for_owner(*, owner: User) -> int:
    """Turn off renewal of every active subscription of ``owner``'s organizations; returns how many.

    Called for ``portal.signals.user_erasing``: a deleted account is never
    charged again. Paid periods, charges and the ledger stay.
    """
    ids = list(
        Subscription.objects.filter(organization__owner_id=owner.pk, status=Subscription.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for subscription_id in ids:
        subscription_cancel(user=owner, subscription_id=subscription_id)
    return len(ids)


def subscriptions_due_ids(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Subscription.objects.filter(status=Subscription.Status.ACTIVE, current_period_end__lte=now)
        .order_by("current_period_end", "pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def subscription_renew(*, subscription_id: int, now: datetime | None = None) -> str:
    """Renew one due subscription (charge + extend) or expire it. Returns what happened.

    The organization row, then the subscription row, are locked and the state
    re-checked, and the charge carries a key made of the period it pays for, so
    two overlapping runs charge once.
    """
    now = now or timezone.now()
    org_id = Subscription.objects.filter(pk=subscription_id).values_list("organization_id", flat=True).first()
    if org_id is None:
        return "missing"
    Organization.objects.select_for_update().filter(pk=org_id).first()
    subscription = (
        Subscription.objects.select_for_update()
        .select_related("plan", "organization__city", "organization__owner")
        .get(pk=subscription_id)
    )
    if subscription.status != Subscription.Status.ACTIVE or subscription.current_period_end > now:
        return "skipped"
    organization = subscription.organization
    owner = organization.owner
    plan = subscription.plan
    old_end = subscription.current_period_end
    if subscription.auto_renew and not owner.is_blocked:
        new_start = old_end
        new_end = plan.period_end(new_start)
        if new_end <= now:  # the renewal is very late: start the new period now
            new_start, new_end = now, plan.period_end(now)
        try:
            with transaction.atomic():
                balance_debit(
                    user=owner,
                    amount=plan.price,
                    kind=Kind.SUBSCRIPTION_CHARGE,
                    reference=f"subscription:{subscription.pk}",
                    description=_("Renewal of «%(plan)s» for «%(org)s»")
                    % {"plan": plan.name, "org": organization.name},
                    idempotency_key=f"subscription:{subscription.pk}:renew:{old_end.isoformat()}",
                    content_object=subscription,
                )
        except errors.InsufficientFunds:
            pass
        else:
            subscription.current_period_start = new_start
            subscription.current_period_end = new_end
            subscription.save(update_fields=["current_period_start", "current_period_end"])
            listing_extend(organization=organization, until=new_end)
            notify(
                user=owner,
                kind="subscription_renewed",
                context={
                    "organization": organization.name,
                    "plan": plan.name,
                    "price": money_format(plan.price),
                    "until": _notice_datetime(new_end, organization),
                    "published": organization.status == Organization.Status.PUBLISHED,
                },
                dedupe_key=f"subscription:{subscription.pk}:renewed:{old_end.isoformat()}",
            )
            return "renewed"
    subscription.status = Subscription.Status.EXPIRED
    subscription.expired_at = now
    subscription.save(update_fields=["status", "expired_at"])
    notify(
        user=owner,
        kind="subscription_expired",
        context={
            "organization": organization.name,
            "organization_id": organization.pk,
            "plan": plan.name,
            "price": money_format(plan.price),
            "auto_renew": subscription.auto_renew,
        },
        dedupe_key=f"subscription:{subscription.pk}:expired:{old_end.isoformat()}",
    )
    return "expired"


def subscriptions_renew_due(*, now: datetime | None = None) -> dict[str, int]:
    """Renew or expire every due subscription (each in its own transaction)."""
    counts: dict[str, int] = {}
    for pk in subscriptions_due_ids(now=now):
        result = subscription_renew(subscription_id=pk, now=now)
        counts[result] = counts.get(result, 0) + 1
    return counts


REMINDER_DAYS = (1, 3)


def subscriptions_remind_expiring(*, now: datetime | None = None) -> int:
    """Remind owners 3 days and 1 day before a period ends when it will not renew.

    "Will not renew": auto-renew is off (or cancelled) or the balance is short
    of the plan's price. A subscription already followed by a paid period (a new
    one bought after cancelling) needs no reminder. Each reminder has a dedupe
    key per period, so a second run (or a second beat) sends nothing.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    sent = 0
    followed = Subscription.objects.in_force(now=now).filter(
        organization_id=OuterRef("organization_id"), current_period_end__gt=OuterRef("current_period_end")
    )
    subscriptions = (
        Subscription.objects.in_force(now=now)
        .filter(current_period_end__lte=horizon)
        .exclude(Exists(followed))
        .select_related("plan", "organization__city", "organization__owner")
        .order_by("pk")
    )
    for subscription in subscriptions:
        left = subscription.current_period_end - now
        days = next(d for d in REMINDER_DAYS if left <= timedelta(days=d))
        owner = subscription.organization.owner
        will_renew = (
            subscription.status == Subscription.Status.ACTIVE
            and subscription.auto_renew
            and balance_get(user=owner) >= subscription.plan.price
        )
        if will_renew:
            continue
        with transaction.atomic():
            created = notify(
                user=owner,
                kind="subscription_expiring",
                context={
                    "organization": subscription.organization.name,
                    "organization_id": subscription.organization_id,
                    "plan": subscription.plan.name,
                    "price": money_format(subscription.plan.price),
                    "until": _notice_datetime(subscription.current_period_end, subscription.organization),
                    "days": days,
                    "auto_renew": subscription.status == Subscription.Status.ACTIVE and subscription.auto_renew,
                },
                dedupe_key=(
                    f"subscription:{subscription.pk}:remind:{subscription.current_period_end.isoformat()}:{days}d"
                ),
            )
        sent += bool(created)
    return sent


# --- Revenue -------------------------------------------------------------------------


def revenue_snapshot(*, since: date | None = None, until: date | None = None) -> int:
    """Write RevenueDay rows for ``since``..``until`` (default: from the last snapshot, or the
    first ledger entry, to today). Re-running rewrites the same rows. Returns rows written."""
    today = timezone.localdate()
    until = until or today
    if since is None:
        last = RevenueDay.objects.order_by("-date").values_list("date", flat=True).first()
        if last is not None:
            since = min(last, until - timedelta(days=1))
        else:
            first = LedgerEntry.objects.order_by("created_at").values_list("created_at", flat=True).first()
            since = timezone.localtime(first).date() if first else until
    start, _ = day_bounds(since)
    _, end = day_bounds(until)
    figures = revenue_figures(start=start, end=end)
    written = 0
    day = since
    while day <= until:
        values = figures.get(day)
        if values is None:
            # Only days with activity get a row, but a day that lost its activity is cleared.
            RevenueDay.objects.filter(date=day).delete()
        else:
            RevenueDay.objects.update_or_create(date=day, defaults=values)
            written += 1
        day += timedelta(days=1)
    return written
