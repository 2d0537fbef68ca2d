"""Signals portal sends to the apps above it.

portal is the lowest app: it imports none of the others, so when an account
event concerns data another app owns, portal sends a signal and that app's
receiver (connected in its ``AppConfig.ready()``) calls its own services.

``user_erasing``
    Sent by ``portal.services.user_delete`` inside its transaction, with the
    user's row locked and the personal data still in place (portal anonymises
    it right after the receivers return). Arguments: ``sender=User``,
    ``user=`` (the account being deleted), ``by=`` (the staff member who erases
    it, or None when the person deletes their own account) and ``now=`` (the
    time of the deletion: "future" means after it). Each app releases what it
    holds for the person through its own services: bookings cancels their
    future bookings and removes their participations, catalog hides their
    organizations, billing stops their subscriptions' renewals, referrals
    switches their codes off, mailings unlinks their bot chats and drops
    pending messages. A receiver that raises rolls the whole deletion back, so
    an account is erased completely or not at all; receivers must be
    idempotent (deleting twice changes nothing the second time).
"""

from django.dispatch import Signal

user_erasing = Signal()
