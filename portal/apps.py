from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Accounts and support")

    def ready(self):
        from django.urls import register_converter

        from portal import deploy_checks
        from portal.celery import ensure_broker_folders
        from portal.converters import IdConverter
        from portal.schedule import sync_after_migrate
        from portal.site_record import site_record_sync

        register_converter(IdConverter, "id")
        deploy_checks.register()
        ensure_broker_folders()
        # A fresh database gets the beat schedule as soon as it is migrated.
        post_migrate.connect(sync_after_migrate, sender=self)
        post_migrate.connect(site_record_sync, sender=self)
