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

# Sent once when the first visit of a platform identity creates a user (the
# Telegram or VK Mini App, or a bot): after the user and its SocialAccount are
# saved, in the caller's transaction.
# Payload (keyword arguments):
#   user        -- the new portal.models.User
#   provider    -- "telegram" or "vk"
#   start_param -- the Mini App's start parameter ("" when none), e.g. "ref_<code>"
# Receivers must not raise: a refusal of theirs must not stop the sign-in.
platform_user_created = Signal()


# Sent every time a person signs in with a platform identity (portal.services.platform_sign_in_announce):
# the Mini App session sign-in (POST /api/v1/auth/miniapp/), and a Telegram or VK login or account
# connection through allauth on the site. Sent after the user and its SocialAccount are saved, in the
# caller's transaction.
# Payload (keyword arguments):
#   user        -- the portal.models.User who signed in
#   provider    -- "telegram" or "vk"
#   uid         -- the platform user id (str), the SocialAccount's uid
#   created     -- True when this very sign-in created the user
#   start_param -- the Mini App's start parameter ("" when none), e.g. "ref_<code>", "org_<id>"
# mailings links the bot chat of that identity to the user; referrals applies a ref_<code> of a new user.
# Receivers must not raise: a refusal of theirs must not stop the sign-in.
platform_user_signed_in = Signal()


# Sent by portal.services.user_delete inside its transaction; see the module docstring.
# Payload: user, by, now.
user_erasing = Signal()
