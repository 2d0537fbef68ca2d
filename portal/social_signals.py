"""allauth's Telegram and VK sign-ins on the site are platform sign-ins too.

A person who logs in with Telegram or VK on the site, or connects one of them
to their account, is announced like a Mini App sign-in
(``portal.services.platform_sign_in_announce``), so mailings links the bot
chat that platform id already opened to the account.
"""

from allauth.account.signals import user_logged_in
from allauth.socialaccount.signals import social_account_added
from django.dispatch import receiver

from portal.services import platform_sign_in_announce


def _announce(user, sociallogin) -> None:
    account = getattr(sociallogin, "account", None)
    if user is None or account is None or not account.pk:
        return
    platform_sign_in_announce(user=user, provider=account.provider, uid=account.uid)


@receiver(user_logged_in, dispatch_uid="portal.social_login_announce")
def _social_login(sender, request, user, sociallogin=None, **kwargs):
    if sociallogin is not None:
        _announce(user, sociallogin)


@receiver(social_account_added, dispatch_uid="portal.social_connect_announce")
def _social_connect(sender, request, sociallogin, **kwargs):
    _announce(sociallogin.user, sociallogin)
