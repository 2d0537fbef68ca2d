"""The letters of sign-up, for tests: the confirmation link in a letter, and a confirmed sign-up."""

import re

from django.core import mail
from django.test import Client

CONFIRMATION_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def confirmation_path(message) -> str:
    """The path of the email confirmation link in ``message`` (a sent EmailMessage)."""
    match = CONFIRMATION_LINK.search(str(message.body))
    assert match, message.body
    return match.group(1)


def site_signup(email: str, password: str) -> Client:
    """Sign up on the site's form with ``email`` and follow the emailed confirmation link; the returned
    browser is signed in."""
    site = Client()
    mail.outbox.clear()
    response = site.post("/accounts/signup/", {"email": email, "password1": password, "password2": password})
    assert response.status_code == 302, response.content
    assert site.post(confirmation_path(mail.outbox[0])).status_code == 302
    return site
