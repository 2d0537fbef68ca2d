from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from catalog.booking_links import booking_links_register
from mailings.bot_registry import command_register
from portal.signals import user_erasing


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self):
        # Imported here: these modules load models, which Django allows only once the app registry is ready.
        from bookings.bot import bot_bookings_command
        from bookings.selectors import organization_booking_links
        from bookings.signals import on_user_erasing

        command_register(command="/bookings", handler=bot_bookings_command, description=_("your upcoming bookings"))
        # The catalog's book buttons and the owner's checklist: bookings knows what can be booked.
        booking_links_register(resolver=organization_booking_links)
        user_erasing.connect(on_user_erasing, dispatch_uid="bookings.release_erased_user")
