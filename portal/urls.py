"""The site's URLs. A process started with DEBUG on uses portal/urls_dev.py, which adds
the development-only pages; nothing here depends on DEBUG."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from catalog.sitemaps import OrganizationSitemap
from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("sitemap.xml", sitemap, {"sitemaps": {"catalog": OrganizationSitemap}}, name="sitemap"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("portal.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("portal.site_urls")),
    path("catalog/", include("catalog.urls")),
    path("bookings/", include("bookings.urls")),
    path("billing/", include("billing.urls")),
    path("referrals/", include("referrals.urls")),
    path("", include("mailings.urls")),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
