from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from mailings.bot_registry import command_register, stats_register
from portal.miniapp_start import start_param_register
from portal.signals import user_erasing


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self):
        # Imported here: these modules load models, which Django allows only once the app registry is ready.
        from bookings.bot import bot_bookings_command, bot_stats_bookings
        from bookings.miniapp import booking_start_url
        from bookings.services import BOOKING_START_PREFIX
        from bookings.signals import on_user_erasing

        command_register(command="/bookings", handler=bot_bookings_command, description=_("your upcoming bookings"))
        stats_register(name="bookings", provider=bot_stats_bookings)
        start_param_register(prefix=BOOKING_START_PREFIX, resolver=booking_start_url)
        user_erasing.connect(on_user_erasing, dispatch_uid="bookings.release_erased_user")
