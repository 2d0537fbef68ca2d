"""Run the Telegram bot by long polling (development); production uses the webhook."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from telegram.error import NetworkError, TelegramError

from mailings.channels import telegram as tg
from mailings.telegram_bot import ALLOWED_UPDATES, handle_update


class Command(BaseCommand):
    help = "Run the Telegram bot with long polling (the same handlers as the webhook)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=int, default=25, help="Long-polling timeout, seconds.")
        parser.add_argument("--once", action="store_true", help="Fetch and handle one batch of updates, then exit.")

    def handle(self, *args, timeout: int, once: bool, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("Set TELEGRAM_BOT_TOKEN to run the bot.")
        bot = tg.get_bot()
        # Polling and a webhook exclude each other.
        tg.run(bot.delete_webhook())
        me = tg.run(bot.get_me())
        self.stdout.write(f"Polling as @{me.username}. Ctrl+C to stop.")
        offset = None
        while True:
            try:
                updates = tg.run(
                    bot.get_updates(
                        offset=offset,
                        timeout=timeout,
                        read_timeout=timeout + 10,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                )
            except NetworkError as exc:
                self.stderr.write(f"Network error, retrying: {exc}")
                time.sleep(2)
                continue
            except TelegramError as exc:
                raise CommandError(str(exc)) from exc
            for update in updates:
                offset = update.update_id + 1
                try:
                    handle_update(update.to_dict())
                except Exception as exc:  # one bad update must not stop the bot
                    self.stderr.write(f"Update {update.update_id} failed: {exc!r}")
            if once:
                return
