"""Security log receivers: sign-ins, failures, lockouts and 2FA changes.

Django's auth signals, django-axes' ``user_locked_out`` and allauth.mfa's
authenticator signals each become a ``SecurityEvent`` (portal.services).
Back-office actions (blocks, verification, grants, mailings) are logged by
their own services instead.
"""

from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from portal.client_address import client_ip
from portal.login_lockout import login_username
from portal.models import SecurityEvent
from portal.services import security_event_record


def _ip(request) -> str | None:
    return client_ip(request) if request is not None else None


def _path(request) -> str:
    return getattr(request, "path", "") or ""


@receiver(user_logged_in, dispatch_uid="security_log_login")
def _log_login(sender, request, user, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN,
        user=user,
        ip=_ip(request),
        details={"path": _path(request), "backend": getattr(user, "backend", "") or ""},
    )


@receiver(user_login_failed, dispatch_uid="security_log_login_failed")
def _log_login_failed(sender, credentials, request=None, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        username=login_username(request, credentials),
        ip=_ip(request),
        details={"path": _path(request)},
    )


@receiver(user_locked_out, dispatch_uid="security_log_lockout")
def _log_lockout(sender, request, username=None, ip_address=None, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.LOCKOUT,
        username=username,
        ip=ip_address or _ip(request),
        details={"path": _path(request)},
    )


def _authenticator_details(authenticator) -> dict:
    return {"authenticator": authenticator.type}


@receiver(mfa_signals.authenticator_added, dispatch_uid="security_log_mfa_added")
def _log_authenticator_added(sender, request, user, authenticator, **kwargs):
    kind = (
        SecurityEvent.Kind.RECOVERY_CODES_GENERATED
        if authenticator.type == Authenticator.Type.RECOVERY_CODES
        else SecurityEvent.Kind.MFA_ACTIVATED
    )
    security_event_record(kind=kind, user=user, ip=_ip(request), details=_authenticator_details(authenticator))


@receiver(mfa_signals.authenticator_reset, dispatch_uid="security_log_mfa_reset")
def _log_authenticator_reset(sender, request, user, authenticator, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.RECOVERY_CODES_GENERATED,
        user=user,
        ip=_ip(request),
        details=_authenticator_details(authenticator),
    )


@receiver(mfa_signals.authenticator_removed, dispatch_uid="security_log_mfa_removed")
def _log_authenticator_removed(sender, request, user, authenticator, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.MFA_DEACTIVATED,
        user=user,
        ip=_ip(request),
        details=_authenticator_details(authenticator),
    )


@receiver(mfa_signals.authenticator_used, dispatch_uid="security_log_mfa_used")
def _log_recovery_code_used(sender, request, user, authenticator, **kwargs):
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        return  # a TOTP code is part of a sign-in, which is logged as such
    security_event_record(
        kind=SecurityEvent.Kind.RECOVERY_CODE_USED,
        user=user,
        ip=_ip(request),
        details={
            "authenticator": authenticator.type,
            "reauthentication": bool(kwargs.get("reauthenticated")),
            # re-read: the code was struck off on another copy of the row
            "codes_left": len(Authenticator.objects.get(pk=authenticator.pk).wrap().get_unused_codes()),
        },
    )


@receiver(mfa_signals.authentication_failed, dispatch_uid="security_log_mfa_failed")
def _log_mfa_failed(sender, request, user, authenticator, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.MFA_FAILED,
        user=user,
        ip=_ip(request),
        details={"authenticator": authenticator.type, "reauthentication": bool(kwargs.get("reauthentication"))},
    )
