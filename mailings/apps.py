from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingsConfig(AppConfig):
    name = "mailings"
    verbose_name = _("Mailings and bots")

    def ready(self) -> None:
        from mailings.metrics import mailing_progress_metrics
        from mailings.signals import on_user_erasing
        from portal.metrics import collector_register
        from portal.signals import user_erasing

        user_erasing.connect(on_user_erasing, dispatch_uid="mailings.forget_erased_user")
        collector_register("mailing_progress", mailing_progress_metrics)
