from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from mailings.bot_registry import command_register


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self):
        # Imported here: bookings.bot loads models, which Django allows only once the app registry is ready.
        from bookings.bot import bot_bookings_command

        command_register(command="/bookings", handler=bot_bookings_command, description=_("your upcoming bookings"))
