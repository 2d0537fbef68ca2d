from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _

from billing.signals import topup_paid
from mailings.bot_registry import start_payload_register
from portal.miniapp_start import start_param_register
from portal.signals import platform_user_created, platform_user_signed_in, user_erasing


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        # Imported here: these modules load models, which Django allows only once the app registry is ready.
        from mailings.services import notification_kind_register
        from referrals.bot import bot_start_with_code
        from referrals.miniapp import REFERRAL_START_PREFIX, referral_start_url
        from referrals.services import REFERRER_NOTICE_CHANNELS
        from referrals.signals import (
            on_platform_user_created,
            on_platform_user_signed_in,
            on_topup_paid,
            on_user_erasing,
            on_user_saved,
            on_user_saving,
        )

        for kind, channels in REFERRER_NOTICE_CHANNELS.items():
            notification_kind_register(kind=kind, channels=channels)

        topup_paid.connect(on_topup_paid, dispatch_uid="referrals.referral_bonus")
        platform_user_created.connect(on_platform_user_created, dispatch_uid="referrals.miniapp_start_param")
        platform_user_signed_in.connect(on_platform_user_signed_in, dispatch_uid="referrals.miniapp_session_code")
        start_param_register(prefix=REFERRAL_START_PREFIX, resolver=referral_start_url)
        user_erasing.connect(on_user_erasing, dispatch_uid="referrals.deactivate_erased_codes")
        pre_save.connect(on_user_saving, sender=settings.AUTH_USER_MODEL, dispatch_uid="referrals.lookup_cache_email")
        post_save.connect(on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="referrals.lookup_cache_user")
        start_payload_register(prefix="ref_", handler=bot_start_with_code)
