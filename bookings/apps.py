from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from catalog.booking_links import booking_links_register
from catalog.extensions import free_today_register, organization_section_register
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
        from bookings.organization_page import hours_section, reviews_section
        from bookings.selectors import organization_booking_links, organizations_free_today
        from bookings.services import BOOKING_START_PREFIX
        from bookings.signals import on_user_erasing

        command_register(command="/bookings", handler=bot_bookings_command, description=_("your upcoming bookings"))
        stats_register(name="bookings", provider=bot_stats_bookings)
        start_param_register(prefix=BOOKING_START_PREFIX, resolver=booking_start_url)
        # The catalog's book buttons and the owner's checklist: bookings knows what can be booked.
        booking_links_register(resolver=organization_booking_links)
        user_erasing.connect(on_user_erasing, dispatch_uid="bookings.release_erased_user")
        # Catalog's list and organization page show what only bookings knows (docs/architecture.md).
        free_today_register(apply=organizations_free_today)
        organization_section_register(slot="aside", render=hours_section, position=10)
        organization_section_register(slot="main", render=reviews_section, position=10)
