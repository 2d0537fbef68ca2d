"""Demo data for mailings: a draft broadcast with buttons (nothing is sent by itself)."""

from datetime import timedelta

from django.utils import timezone

from mailings.models import Mailing, MailingButton
from portal.demo import first_or_create

DEMO_MAILING = "Демо: новости недели"


def seed(stdout, context) -> dict:
    staff = context.get("staff")
    mailing, created = first_or_create(
        Mailing,
        name=DEMO_MAILING,
        defaults={
            "text": "<b>Новое в Citydesk</b>\nКоворкинги и мастера вашего города — бронируйте онлайн.",
            "send_at": timezone.now() + timedelta(days=7),
            "audience": Mailing.Audience.SUBSCRIBERS,
            "channels": ["telegram", "vk", "email"],
            "status": Mailing.Status.DRAFT,
            "created_by": staff,
        },
    )
    if created:
        MailingButton.objects.bulk_create(
            [
                MailingButton(
                    mailing=mailing, text="Открыть каталог", url="http://127.0.0.1:8000/catalog/", position=0
                ),
                MailingButton(mailing=mailing, text="Мои брони", url="http://127.0.0.1:8000/bookings/", position=1),
            ]
        )
        stdout.write(f"mailings: draft mailing “{DEMO_MAILING}” (admin → Mailings)\n")
    return {"mailing": mailing}
