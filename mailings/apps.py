from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingsConfig(AppConfig):
    name = "mailings"
    verbose_name = _("Mailings and bots")

    def ready(self) -> None:
        from mailings.metrics import mailing_progress_metrics
        from mailings.signals import on_platform_user_signed_in, on_user_erasing
        from portal.metrics import collector_register
        from portal.signals import platform_user_signed_in, user_erasing

        user_erasing.connect(on_user_erasing, dispatch_uid="mailings.forget_erased_user")
        platform_user_signed_in.connect(on_platform_user_signed_in, dispatch_uid="mailings.link_platform_chat")
        collector_register("mailing_progress", mailing_progress_metrics)
