"""Email channel: the one place an email is built and sent (notifications, mailings, referral notices)."""

import mimetypes
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape

from mailings.channels.base import Channel, Message, SendResult
from mailings.channels.registry import register_channel

# A mailing's photo, GIF or video travels as an attachment up to this size (larger ones are left out).
EMAIL_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def build_email(*, address: str, message: Message) -> EmailMultiAlternatives:
    """The email for ``message``: its text, then its buttons as "text: url" lines; the HTML part alike.

    The HTML part is the message's own email HTML, else its Telegram-style HTML
    with line breaks kept and the buttons as links.
    """
    lines = [f"{text}: {url}" for text, url in message.buttons]
    body = "\n".join([message.text, "", *lines]).strip() if lines else message.text
    html = message.email_html
    if html is None and message.html is not None:
        html = message.html.replace("\n", "<br>\n") + "".join(
            f'<p><a href="{escape(url)}">{escape(text)}</a></p>' for text, url in message.buttons
        )
    mail = EmailMultiAlternatives(
        subject=message.subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address]
    )
    if html:
        mail.attach_alternative(html, "text/html")
    media = message.media
    if media is not None and media.content and len(media.content) <= EMAIL_ATTACHMENT_MAX_BYTES:
        mail.attach(
            media.filename, media.content, mimetypes.guess_type(media.filename)[0] or "application/octet-stream"
        )
    return mail


class EmailChannel(Channel):
    """Email carries media as an attachment; a refused recipient is a permanent failure, anything else SMTP
    says is temporary."""

    name = "email"

    def address_for(self, user) -> str | None:
        return user.email or None

    def send(self, *, address: str, message: Message, dedupe_key: str = "", turn_taken: bool = False) -> SendResult:
        try:
            build_email(address=address, message=message).send()
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult.failed(f"recipient refused: {exc}")
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult.retry(f"SMTP: {exc}")
        return SendResult.sent()


register_channel(EmailChannel())
