from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from portal.signals import user_erasing


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self):
        # Imported here: support.signals loads models, which Django allows only once the app registry is ready.
        from support.signals import on_user_erasing

        user_erasing.connect(on_user_erasing, dispatch_uid="support.erase_tickets")
