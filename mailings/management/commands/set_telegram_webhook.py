"""Register SITE_URL + /telegram/webhook/ with Telegram, with the secret token, and the Mini App menu button."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError

from mailings.channels import telegram as tg
from mailings.telegram_bot import ALLOWED_UPDATES


class Command(BaseCommand):
    help = (
        "Set the Telegram webhook to SITE_URL/telegram/webhook/ with TELEGRAM_WEBHOOK_SECRET, and the bot's "
        "menu button to open the Mini App (TELEGRAM_MINIAPP_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Override the webhook URL (default: SITE_URL + /telegram/webhook/).")

    def handle(self, *args, url: str | None = None, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("Set TELEGRAM_BOT_TOKEN first.")
        if not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET first: the webhook refuses updates without it.")
        url = url or settings.SITE_URL + reverse("mailings:telegram_webhook")
        bot = tg.get_bot()
        try:
            tg.run(
                bot.set_webhook(
                    url=url,
                    secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
            )
        except TelegramError as exc:
            raise CommandError(f"Telegram refused the webhook: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Webhook set to {url}"))

        miniapp_url = settings.TELEGRAM_MINIAPP_URL
        if not miniapp_url.startswith("https://"):
            self.stderr.write(f"Menu button not set: Telegram opens only HTTPS Mini Apps ({miniapp_url}).")
            return
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Open Citydesk")
        try:
            # Without chat_id: the default menu button of every private chat with the bot.
            button = MenuButtonWebApp(text=text, web_app=WebAppInfo(url=miniapp_url))
            tg.run(bot.set_chat_menu_button(menu_button=button))
        except TelegramError as exc:
            raise CommandError(f"Telegram refused the menu button: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Menu button opens {miniapp_url}"))
