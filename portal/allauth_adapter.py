"""django-allauth adapters: blocked users cannot log in on the site; the client
address is ours; a locked-out username + address is refused before any check."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from portal.blocked_notice import blocked_message
from portal.client_address import client_ip
from portal.login_lockout import lockout_message, login_is_locked_out, login_username
from portal.models import SecurityEvent
from portal.services import security_event_record


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        # allauth's rate limits key on this: the same address as DRF and the lockout.
        return client_ip(request)

    def pre_authenticate(self, request, **credentials):
        """Refuse a locked-out username + address before allauth counts or checks anything.

        The form shows the lockout message and axes' middleware answers with the
        lockout page (429); the refused try is logged, not counted.
        """
        if login_is_locked_out(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            security_event_record(
                kind=SecurityEvent.Kind.LOGIN_FAILED,
                username=login_username(request, credentials),
                ip=client_ip(request),
                details={"reason": "locked_out", "path": request.path},
            )
            raise forms.ValidationError(lockout_message(), code="locked_out")
        return super().pre_authenticate(request, **credentials)

    def pre_login(self, request, user, **kwargs):
        if getattr(user, "is_blocked", False):
            clear_login(request)
            messages.error(request, blocked_message())
            return redirect("account_login")
        return super().pre_login(request, user, **kwargs)

    def get_email_confirmation_url(self, request, emailconfirmation):
        # Links in emails point at SITE_URL, not at whatever host the request used.
        return settings.SITE_URL + reverse("account_confirm_email", args=[emailconfirmation.key])


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return True
