from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from portal.celery import ensure_broker_folders
from portal.converters import IdConverter


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Accounts")

    def ready(self):
        # Imported here: these modules load models, which Django allows only once the app registry is ready.
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        from portal import celery_checks, deploy_checks, security_signals, social_signals, staff_mfa  # noqa: F401  (receivers, checks)
        from portal.metrics import database_instrument
        from portal.middleware import staff_session_start
        from portal.request_ids import log_records_carry_request_id, request_id_forget
        from portal.schedule import sync_after_migrate
        from portal.site_record import site_record_sync

        user_logged_in.connect(staff_session_start, dispatch_uid="staff_session_start")
        register_converter(IdConverter, "id")
        deploy_checks.register()
        celery_checks.register()
        ensure_broker_folders()
        log_records_carry_request_id()
        request_finished.connect(request_id_forget, dispatch_uid="citydesk.request_id_forget")
        connection_created.connect(database_instrument, dispatch_uid="citydesk.database_metrics")
        # A fresh database gets the beat schedule as soon as it is migrated.
        post_migrate.connect(sync_after_migrate, sender=self)
        post_migrate.connect(site_record_sync, sender=self)


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose default site asks staff for the second factor."""

    default = False
    default_site = "portal.admin_site.AdminSite"
