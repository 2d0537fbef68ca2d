"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery
from django.conf import settings

from portal import celery_observability  # noqa: F401  (signal receivers: request ids, task metrics, exporter)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("citydesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """Create the filesystem broker's folders (embedded default, no server)."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            os.makedirs(options[key], exist_ok=True)
