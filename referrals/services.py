"""Referral services: codes, referrals, the referral bonus.

Every write that has a rule lives here; views, the API, the admin, the bot and
the Mini App sign-in call these functions.
"""

import logging
import re
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.services import balance_credit
from mailings.services import notify
from portal.errors import Conflict, NotFound, ValidationError
from portal.models import User
from referrals import lookup_cache, tasks
from referrals.models import CODE_ALPHABET, CODE_LENGTH, Referral, ReferralCode

logger = logging.getLogger(__name__)

SOURCES = {choice.value for choice in Referral.Source}
# A user keeps a bounded number of codes (active or not): enough to rotate
# them, not enough to flood the table.
MAX_CODES_PER_USER = 20


# What can be a code at all: our generated codes and older hand-made ones. Text
# outside it (a ?ref= parameter, a bot or Mini App payload) is never looked up.
_CODE_FORMAT = re.compile(r"[A-Z0-9]{4,32}")


def referral_code_normalize(code: str | None) -> str:
    """A code as typed or passed in a link, stripped and upper-cased; "" when it cannot be a code."""
    normalized = (code or "").strip().upper()
    return normalized if _CODE_FORMAT.fullmatch(normalized) else ""


def _generate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _lock_user(user: User) -> None:
    """Lock the user's row: it guards "one active code per user" for every code write."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _lifetime_days(days: int | None) -> int:
    if days is None:
        default: int = settings.REFERRAL_CODE_DEFAULT_DAYS
        return default
    low, high = settings.REFERRAL_CODE_MIN_DAYS, settings.REFERRAL_CODE_MAX_DAYS
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = -1
    if not low <= days <= high:
        raise ValidationError(
            _("A code can live from %(min)s to %(max)s days.") % {"min": low, "max": high},
            code="invalid_lifetime",
        )
    return days


def _deactivate_others(*, user: User, keep_pk: int | None = None) -> None:
    others = ReferralCode.objects.filter(user=user, is_active=True)
    if keep_pk is not None:
        others = others.exclude(pk=keep_pk)
    others.update(is_active=False)


@transaction.atomic
def referral_code_create(*, user: User, days: int | None = None) -> ReferralCode:
    """Create a new active code for ``user`` living ``days`` days (settings give the range).

    The user's other codes are deactivated in the same transaction.
    """
    days = _lifetime_days(days)
    _lock_user(user)
    if ReferralCode.objects.filter(user=user).count() >= MAX_CODES_PER_USER:
        raise Conflict(
            _("You already have %(count)s codes. Delete an old one first.") % {"count": MAX_CODES_PER_USER},
            code="too_many_codes",
        )
    _deactivate_others(user=user)
    expires_at = timezone.now() + timedelta(days=days)
    for _attempt in range(10):
        try:
            with transaction.atomic():
                code = ReferralCode.objects.create(user=user, code=_generate_code(), expires_at=expires_at)
            break
        except IntegrityError:  # a clash of random codes: try another one
            continue
    else:  # pragma: no cover - 31**8 codes
        raise Conflict(_("Could not generate a unique code, please try again."), code="code_generation_failed")
    lookup_cache.invalidate_on_commit(user)
    return code


def _get_own_code(*, user: User, code_id: int | str) -> ReferralCode:
    try:
        return ReferralCode.objects.select_for_update().get(pk=int(code_id), user=user)
    except (ReferralCode.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("Referral code not found."), code="not_found") from None


@transaction.atomic
def referral_code_activate(*, user: User, code_id: int) -> ReferralCode:
    """Make one of the user's codes the active one; the others are deactivated."""
    _lock_user(user)
    code = _get_own_code(user=user, code_id=code_id)
    if code.is_expired:
        raise ValidationError(_("This code has expired. Create a new one."), code="code_expired")
    if not code.is_active:
        _deactivate_others(user=user, keep_pk=code.pk)
        code.is_active = True
        code.save(update_fields=["is_active"])
    lookup_cache.invalidate_on_commit(user)
    return code


@transaction.atomic
def referral_code_deactivate(*, user: User, code_id: int) -> ReferralCode:
    """Switch one of the user's codes off (idempotent)."""
    _lock_user(user)
    code = _get_own_code(user=user, code_id=code_id)
    if code.is_active:
        code.is_active = False
        code.save(update_fields=["is_active"])
    lookup_cache.invalidate_on_commit(user)
    return code


@transaction.atomic
def referral_code_delete(*, user: User, code_id: int) -> ReferralCode:
    """Delete one of the user's codes and return it (unsaved). Referrals made with it are kept."""
    _lock_user(user)
    code = _get_own_code(user=user, code_id=code_id)
    code.delete()
    lookup_cache.invalidate_on_commit(user)
    return code


@transaction.atomic
def referral_codes_deactivate_for_user(*, user: User) -> int:
    """Switch off every code of ``user`` (their account is being deleted); returns how many changed.

    Called for ``portal.signals.user_erasing``. The codes and the referrals
    made with them stay; nobody can sign up with them any more.
    """
    _lock_user(user)
    count = ReferralCode.objects.filter(user=user, is_active=True).update(is_active=False)
    lookup_cache.invalidate_on_commit(user)
    return count


def _apply_window() -> timedelta:
    return timedelta(hours=settings.REFERRAL_APPLY_WINDOW_HOURS)


def _ensure_usable(referral_code: ReferralCode | None) -> ReferralCode:
    if referral_code is None or not referral_code.user.is_active or referral_code.user.is_blocked:
        raise ValidationError(_("Referral code not found."), code="code_not_found")
    if referral_code.is_expired:
        raise ValidationError(_("This referral code has expired."), code="code_expired")
    if not referral_code.is_active:
        raise ValidationError(_("This referral code is no longer active."), code="code_inactive")
    return referral_code


def referral_code_check(*, code: str) -> str:
    """The normalized ``code`` if anyone could join with it now; else ValidationError
    (``code_not_found``, ``code_expired``, ``code_inactive``).

    Depends on the code only, never on who asks: the signup form uses it before
    the account exists, so its answer is the same for every email.
    """
    normalized = referral_code_normalize(code)
    referral_code = ReferralCode.objects.select_related("user").filter(code=normalized).first() if normalized else None
    return _ensure_usable(referral_code).code


@transaction.atomic
def referral_apply(*, user: User, code: str, source: str) -> Referral:
    """Record that ``user`` joined with referral ``code`` (source: site, api, miniapp, bot).

    Allowed once per user, within REFERRAL_APPLY_WINDOW_HOURS (24 h) of their
    registration. Refusals raise ValidationError (``code_not_found``,
    ``code_inactive``, ``code_expired``, ``self_referral``) or Conflict
    (``already_referred``, ``too_late``). On success the referrer is emailed and
    notified after commit (``referrals.tasks.notify_referrer``).
    """
    if source not in SOURCES:
        raise ValidationError(_("Unknown referral source."), code="invalid_source")
    normalized = referral_code_normalize(code)
    if not normalized:
        raise ValidationError(_("Referral code not found."), code="code_not_found")

    if Referral.objects.filter(referred=user).exists():
        raise Conflict(_("You have already joined with a referral code."), code="already_referred")
    if timezone.now() - user.date_joined > _apply_window():
        raise Conflict(
            _("A referral code can only be used within %(hours)s hours of registration.")
            % {"hours": settings.REFERRAL_APPLY_WINDOW_HOURS},
            code="too_late",
        )
    referral_code = ReferralCode.objects.select_related("user").filter(code=normalized).first()
    if referral_code is not None and referral_code.user_id == user.pk:
        raise ValidationError(_("You cannot use your own referral code."), code="self_referral")
    referral_code = _ensure_usable(referral_code)

    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer_id=referral_code.user_id,
                referred=user,
                code=referral_code,
                code_text=referral_code.code,
                source=source,
            )
    except IntegrityError:  # a concurrent apply for the same user won
        raise Conflict(_("You have already joined with a referral code."), code="already_referred") from None

    transaction.on_commit(lambda: tasks.notify_referrer.delay(referral.pk))
    return referral


def referral_bonus_amount() -> Decimal:
    """The bonus from settings.REFERRAL_BONUS_AMOUNT; 0 (or garbage) switches it off."""
    try:
        amount = Decimal(str(settings.REFERRAL_BONUS_AMOUNT)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        logger.error("REFERRAL_BONUS_AMOUNT is not a number: %r", settings.REFERRAL_BONUS_AMOUNT)
        return Decimal("0.00")
    return max(amount, Decimal("0.00"))


@transaction.atomic
def referral_bonus_pay(*, referred_user: User, reference: str = "") -> Referral | None:
    """Credit the referrer of ``referred_user`` the referral bonus, exactly once.

    Called when the referred user's first top-up is paid; a referrer whose
    account is deleted (inactive) gets nothing. The Referral row lock
    plus ``bonus_paid_at`` make repeats no-ops; billing's idempotency key
    ``referral-bonus:<referral id>`` backs it in the ledger. Returns the referral
    when a bonus was paid now, else None.
    """
    amount = referral_bonus_amount()
    if amount <= 0:
        return None
    referral = Referral.objects.select_for_update().select_related("referrer").filter(referred=referred_user).first()
    if referral is None or referral.bonus_paid_at is not None:
        return None
    if not referral.referrer.is_active:  # the referrer deleted their account: nobody to pay
        return None
    balance_credit(
        user=referral.referrer,
        amount=amount,
        kind="referral_bonus",
        reference=reference or f"referral:{referral.pk}",
        description=_("Referral bonus: %(user)s made their first top-up") % {"user": _display_name(referred_user)},
        idempotency_key=f"referral-bonus:{referral.pk}",
    )
    referral.bonus_paid_at = timezone.now()
    referral.bonus_amount = amount
    referral.save(update_fields=["bonus_paid_at", "bonus_amount"])
    return referral


def _display_name(user: User) -> str:
    """A friendly name that does not leak the whole email address."""
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    if name:
        return name
    email = user.email or ""
    if "@" in email:
        local, domain = email.split("@", 1)
        return f"{local[:2]}***@{domain}"
    return _("user #%(id)s") % {"id": user.pk}


referred_display_name = _display_name


# The referrer is both emailed and told in the bot: two notification kinds,
# each limited to its channels (registered in ReferralsConfig.ready()).
REFERRER_NOTICE_CHANNELS = {"referral_joined": ("telegram", "vk"), "referral_joined_email": ("email",)}


def referral_notify_referrer(*, referral_id: int) -> None:
    """Tell the referrer someone joined with their code: by email and in the bot that reaches them.

    Two ``notify`` kinds with one dedupe key each per referral:
    ``referral_joined`` (Telegram, else VK; nothing when no bot reaches the
    referrer) under ``referral:<id>:joined`` and ``referral_joined_email``
    (email only) under ``referral:<id>:joined:email``. A repeated task records
    and sends nothing; delivery happens after commit, outside any lock.
    """
    referral = Referral.objects.select_related("referrer", "referred").filter(pk=referral_id).first()
    if referral is None:
        return
    referrer = referral.referrer
    if referrer.is_blocked or not referrer.is_active:
        return
    context = {
        "referral_id": referral.pk,
        "referred_name": _display_name(referral.referred),
        "code": referral.code_text,
        "joined_at": referral.created_at.isoformat(),
        "mine_url": settings.SITE_URL + reverse("referrals:mine"),
        "bonus_amount": str(bonus) if (bonus := referral_bonus_amount()) > 0 else "",
    }
    notify(user=referrer, kind="referral_joined", context=context, dedupe_key=f"referral:{referral.pk}:joined")
    notify(
        user=referrer,
        kind="referral_joined_email",
        context=context,
        dedupe_key=f"referral:{referral.pk}:joined:email",
    )
