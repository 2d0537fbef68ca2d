"""Signals portal sends for the apps above it.

portal sits at the bottom of the layers (docs/architecture.md), so it never
imports the apps that react to what happens to accounts: they connect to these
signals in their ``AppConfig.ready()``.
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
