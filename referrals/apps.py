from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save, pre_save

        from billing.signals import topup_paid
        from mailings.services import notification_kind_register
        from referrals.services import REFERRER_NOTICE_CHANNELS
        from referrals.signals import on_topup_paid, on_user_saved, on_user_saving

        for kind, channels in REFERRER_NOTICE_CHANNELS.items():
            notification_kind_register(kind=kind, channels=channels)

        topup_paid.connect(on_topup_paid, dispatch_uid="referrals.referral_bonus")
        pre_save.connect(on_user_saving, sender=settings.AUTH_USER_MODEL, dispatch_uid="referrals.lookup_cache_email")
        post_save.connect(on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="referrals.lookup_cache_user")
