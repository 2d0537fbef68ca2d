"""Receivers: the referral bonus, a Mini App sign-up with a code, the lookup cache, account deletion."""

import logging

from django.db import transaction

from portal.errors import DomainError
from referrals import lookup_cache
from referrals.models import Referral
from referrals.services import referral_apply, referral_bonus_pay

logger = logging.getLogger(__name__)

# The user fields the public code lookup depends on; saves touching none of
# them (a login's last_login, a profile edit) leave the cache alone.
LOOKUP_FIELDS = frozenset({"email", "is_active", "is_blocked"})


def on_topup_paid(sender, *, payment=None, user=None, is_first_topup=False, **kwargs) -> None:
    """billing.signals.topup_paid: pay the referrer's bonus on the referred user's first top-up.

    Runs inside billing's crediting transaction: a rolled-back top-up takes the
    bonus with it, while a refused bonus (in its own savepoint) leaves the
    top-up alone.
    """
    if not is_first_topup or user is None:
        return
    reference = f"payment:{payment.pk}" if getattr(payment, "pk", None) else ""
    try:
        # A savepoint: a refused bonus must never undo the top-up it rides on.
        with transaction.atomic():
            referral_bonus_pay(referred_user=user, reference=reference)
    except DomainError:
        logger.exception("referral bonus for user %s was refused", user.pk)


MINIAPP_CODE_PREFIX = "ref_"


def on_platform_user_created(sender, *, user, provider: str = "", start_param: str = "", **kwargs) -> None:
    """portal.signals.platform_user_created: a Mini App opened with ``start_param`` ``ref_<code>``
    applies that code to the new user.

    A refused code is logged and the sign-up still succeeds (the savepoint keeps
    the new user whatever the refusal).
    """
    if not start_param.startswith(MINIAPP_CODE_PREFIX):
        return
    code = start_param[len(MINIAPP_CODE_PREFIX) :]
    try:
        with transaction.atomic():
            referral_apply(user=user, code=code, source="miniapp")
    except DomainError as exc:
        logger.info("referral code %r not applied for user %s: %s", code, user.pk, exc)


def on_platform_user_signed_in(sender, *, user, created: bool = False, start_param: str = "", **kwargs) -> None:
    """portal.signals.platform_user_signed_in: a new user's Mini App session sign-in with ``ref_<code>``.

    Telegram signs its start parameter into initData, so its code is applied
    when the user is created (``on_platform_user_created``); VK's is the hash
    after the app's address and reaches us only with the session sign-in.
    A user who already joined with a code is left alone.
    """
    if not created or not start_param.startswith(MINIAPP_CODE_PREFIX):
        return
    if Referral.objects.filter(referred=user).exists():
        return
    on_platform_user_created(sender, user=user, start_param=start_param)


def _touches_lookup(update_fields) -> bool:
    return update_fields is None or not LOOKUP_FIELDS.isdisjoint(update_fields)


def on_user_saving(sender, instance, update_fields=None, **kwargs) -> None:
    """A user changing their email must drop out of the lookup under the old address too."""
    if instance.pk is None or not _touches_lookup(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("email", flat=True).first()
    if stored and stored != instance.email:
        lookup_cache.invalidate_email_on_commit(stored)


def on_user_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """A blocked, deactivated or re-addressed user must drop out of the public lookup at once."""
    if _touches_lookup(update_fields):
        lookup_cache.invalidate_on_commit(instance)


def on_user_erasing(sender, *, user, **kwargs) -> None:
    """portal.signals.user_erasing: a deleted account's referral codes stop working."""
    from referrals.services import referral_codes_deactivate_for_user

    referral_codes_deactivate_for_user(user=user)
