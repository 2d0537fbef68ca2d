from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from portal.signals import user_erasing


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # Imported here: these modules load models, which Django allows only once the app registry is ready.
        from billing import selectors
        from billing.admin import grant_balance
        from billing.bot import bot_stats_billing
        from billing.signals import on_user_erasing
        from mailings.bot_registry import stats_register
        from mailings.models import Mailing
        from mailings.selectors import audience_register
        from portal.admin import user_admin_action_register

        # The staff bot's /stats: money is billing's to count.
        stats_register(name="billing", provider=bot_stats_billing)

        # Who has a paid-up subscription is billing's to know: mailings asks through this resolver.
        audience_register(audience=Mailing.Audience.ACTIVE_OWNERS, resolver=selectors.mailing_audience_active_owners)
        user_erasing.connect(on_user_erasing, dispatch_uid="billing.stop_erased_owner")
        # "Grant balance" in the users' admin: portal's admin offers a hook, billing fills it.
        user_admin_action_register(grant_balance)
