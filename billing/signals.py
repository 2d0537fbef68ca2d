"""Signals billing sends to other apps.

``topup_paid`` is sent inside the transaction that credits a Robokassa top-up,
exactly once per payment: ``sender=Payment``, ``payment=``, ``user=``,
``is_first_topup=`` (True for the user's first paid top-up). Referrals listen
to it to pay the referral bonus.
"""

from django.dispatch import Signal

topup_paid = Signal()
