"""Blocking and verification services: the rules every caller (admin, API, bots) shares."""

import pytest

from portal import errors
from portal.services import user_block, user_unblock, user_unverify, user_verify

pytestmark = pytest.mark.django_db


def test_block_records_reason_who_and_when(user, staff_user):
    blocked = user_block(user=user, reason="  Спам  ", by=staff_user)

    assert (blocked.is_blocked, blocked.blocked_reason, blocked.blocked_by) == (True, "Спам", staff_user)
    assert blocked.blocked_at is not None


def test_block_needs_a_reason_and_changes_nothing(user, staff_user):
    with pytest.raises(errors.ValidationError) as exc:
        user_block(user=user, reason="   ", by=staff_user)

    assert exc.value.code == "reason_required"
    user.refresh_from_db()
    assert not user.is_blocked


def test_staff_cannot_block_themselves(staff_user):
    with pytest.raises(errors.PermissionDenied) as exc:
        user_block(user=staff_user, reason="проверка", by=staff_user)

    assert exc.value.code == "block_self"
    staff_user.refresh_from_db()
    assert not staff_user.is_blocked


def test_unblock_clears_the_block(user, staff_user):
    user_block(user=user, reason="Спам", by=staff_user)

    unblocked = user_unblock(user=user, by=staff_user)

    assert (unblocked.is_blocked, unblocked.blocked_reason, unblocked.blocked_at, unblocked.blocked_by) == (
        False,
        "",
        None,
        None,
    )


def test_verify_keeps_the_first_verification(user, staff_user, other_user):
    first = user_verify(user=user, by=staff_user)

    again = user_verify(user=user, by=other_user)

    assert again.is_verified
    assert (again.verified_at, again.verified_by) == (first.verified_at, staff_user)


def test_unverify_withdraws_the_verification(user, staff_user):
    user_verify(user=user, by=staff_user)

    withdrawn = user_unverify(user=user, by=staff_user)

    assert (withdrawn.is_verified, withdrawn.verified_at, withdrawn.verified_by) == (False, None, None)
