"""Register SITE_URL + /telegram/webhook/ with Telegram, with the secret token."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from telegram.error import TelegramError

from mailings.channels import telegram as tg


class Command(BaseCommand):
    help = "Set the Telegram webhook to SITE_URL/telegram/webhook/ with TELEGRAM_WEBHOOK_SECRET."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Override the webhook URL (default: SITE_URL + /telegram/webhook/).")

    def handle(self, *args, url: str | None = None, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("Set TELEGRAM_BOT_TOKEN first.")
        if not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET first: the webhook refuses updates without it.")
        url = url or settings.SITE_URL + reverse("mailings:telegram_webhook")
        try:
            tg.run(
                tg.get_bot().set_webhook(
                    url=url,
                    secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                    allowed_updates=["message", "my_chat_member"],
                    drop_pending_updates=False,
                )
            )
        except TelegramError as exc:
            raise CommandError(f"Telegram refused the webhook: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Webhook set to {url}"))
