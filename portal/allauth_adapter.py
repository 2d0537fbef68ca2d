"""django-allauth adapters: blocked users cannot log in on the site."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class AccountAdapter(DefaultAccountAdapter):
    def pre_login(self, request, user, **kwargs):
        if getattr(user, "is_blocked", False):
            clear_login(request)
            messages.error(request, _("Your account has been blocked. Please contact support."))
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def get_email_confirmation_url(self, request, emailconfirmation):
        # Links in emails point at SITE_URL, not at whatever host the request used.
        return settings.SITE_URL + reverse("account_confirm_email", args=[emailconfirmation.key])


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True
