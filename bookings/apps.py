from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from bookings.signals import on_user_erasing
        from portal.signals import user_erasing

        user_erasing.connect(on_user_erasing, dispatch_uid="bookings.release_erased_user")
