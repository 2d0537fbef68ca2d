import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from mailings.channels.base import Channel, DeliveryError, Message
from mailings.channels.registry import register_channel


class EmailChannel(Channel):
    name = "email"

    def address_for(self, user) -> str | None:
        return user.email or None

    def send(self, *, address: str, message: Message) -> None:
        mail = EmailMultiAlternatives(
            subject=message.subject, body=message.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[address]
        )
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        try:
            mail.send()
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(str(exc)) from exc


register_channel(EmailChannel())
