"""What a blocked person is told when the site refuses them, with the way to appeal.

The appeal form lives in the support app, above portal: the wiring names its
URL in ``settings.BLOCKED_USER_APPEAL_URL_NAME`` (portal never imports support).
Without it the message has no link.
"""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


def appeal_url() -> str:
    """The no-login appeal form's path, or "" when none is configured."""
    name = getattr(settings, "BLOCKED_USER_APPEAL_URL_NAME", "")
    if not name:
        return ""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def blocked_message() -> SafeString | str:
    """The login refusal: the account is blocked, and a link to write to support without signing in."""
    url = appeal_url()
    if not url:
        return _("Your account has been blocked. Please contact support.")
    return format_html(
        '{} <a href="{}" class="alert-link">{}</a>',
        _("Your account has been blocked."),
        url,
        _("Write to support (no sign-in needed)"),
    )
