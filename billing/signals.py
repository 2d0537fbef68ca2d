"""Signals billing sends to other apps, and its receivers of portal's.

``topup_paid`` is sent inside the transaction that credits a Robokassa top-up,
exactly once per payment: ``sender=Payment``, ``payment=``, ``user=``,
``is_first_topup=`` (True for the user's first paid top-up). Referrals listen
to it to pay the referral bonus.
"""

from django.dispatch import Signal

topup_paid = Signal()


def on_user_erasing(sender, *, user, **kwargs) -> None:
    """portal.signals.user_erasing: a deleted account's subscriptions stop renewing."""
    from billing.services import subscriptions_cancel_for_owner

    subscriptions_cancel_for_owner(owner=user)
