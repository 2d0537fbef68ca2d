from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing.signals import on_user_erasing
        from portal.signals import user_erasing

        user_erasing.connect(on_user_erasing, dispatch_uid="billing.stop_erased_owner")
