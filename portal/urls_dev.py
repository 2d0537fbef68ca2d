"""URLs of a process started with DJANGO_DEBUG on (`make run`, the test suite).

The site's URLs plus the development-only pages: the local fake Robokassa
payment page and uploads served from MEDIA_ROOT. Production (DEBUG off) routes
with portal/urls.py, which never imports these views.
"""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import path

from billing import dev_robokassa
from portal.urls import handler404, handler500
from portal.urls import urlpatterns as site_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("billing/robokassa/fake/", dev_robokassa.robokassa_fake, name="robokassa_fake"),
    *site_urlpatterns,
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
