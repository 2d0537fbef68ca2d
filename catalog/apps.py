from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        # Imported here: these modules load models, which Django allows only once the app registry is ready.
        from catalog import search, selectors, signals
        from catalog.miniapp import ORGANIZATION_START_PREFIX, organization_start_url
        from mailings.models import Mailing
        from mailings.selectors import audience_register
        from portal.miniapp_start import start_param_register

        signals.connect()
        search.connect()
        start_param_register(prefix=ORGANIZATION_START_PREFIX, resolver=organization_start_url)
        # Organization owners are catalog's to know: mailings asks through these resolvers.
        audience_register(audience=Mailing.Audience.OWNERS, resolver=selectors.mailing_audience_owners)
        audience_register(audience=Mailing.Audience.CITY, resolver=selectors.mailing_audience_city_owners)
