"""Keep django.contrib.sites' record in step with SITE_URL.

allauth's emails and the sitemap name the site from this record; left at
Django's default it would say "example.com".
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site
from django.db import connection


def site_record_sync(**kwargs) -> None:
    """post_migrate receiver: set the current Site's domain and name from settings."""
    if Site._meta.db_table not in connection.introspection.table_names():
        return
    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": domain, "name": "Citydesk"})
