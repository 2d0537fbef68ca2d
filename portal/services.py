"""Account services: blocking and verification (staff actions)."""

from django.db import transaction
from django.utils import timezone

from portal.errors import ValidationError
from portal.models import User


@transaction.atomic
def user_block(*, user: User, reason: str, by: User | None = None) -> User:
    """Block a user: no login, 403 on the API, no mailings, listings hidden."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required to block a user.", code="reason_required")
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_blocked = True
    user.blocked_reason = reason
    user.blocked_at = timezone.now()
    user.blocked_by = by
    user.save(update_fields=["is_blocked", "blocked_reason", "blocked_at", "blocked_by"])
    return user


@transaction.atomic
def user_unblock(*, user: User, by: User | None = None) -> User:
    """Lift a block; the reason and time of the last block are cleared."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_blocked = False
    user.blocked_reason = ""
    user.blocked_at = None
    user.blocked_by = None
    user.save(update_fields=["is_blocked", "blocked_reason", "blocked_at", "blocked_by"])
    return user


@transaction.atomic
def user_verify(*, user: User, by: User | None = None) -> User:
    """Mark a user as verified by staff (idempotent: the first time is kept)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_verified:
        user.is_verified = True
        user.verified_at = timezone.now()
        user.verified_by = by
        user.save(update_fields=["is_verified", "verified_at", "verified_by"])
    return user


@transaction.atomic
def user_unverify(*, user: User, by: User | None = None) -> User:
    """Withdraw a verification."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_verified = False
    user.verified_at = None
    user.verified_by = None
    user.save(update_fields=["is_verified", "verified_at", "verified_by"])
    return user
