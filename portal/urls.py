"""The site's URLs. A process started with DEBUG on uses portal/urls_dev.py, which adds
the development-only pages; nothing here depends on DEBUG."""

from allauth.account import views as account_views
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from catalog.sitemaps import OrganizationSitemap
from catalog.views import home
from portal import views
from portal.throttling import throttle

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("sitemap.xml", sitemap, {"sitemaps": {"catalog": OrganizationSitemap}}, name="sitemap"),
    path("admin/", admin.site.urls),
    # allauth's signup and password reset under the site's throttle policy (same paths and names).
    path("accounts/signup/", throttle("signup")(account_views.signup), name="account_signup"),
    path(
        "accounts/password/reset/",
        throttle("password_reset")(account_views.password_reset),
        name="account_reset_password",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("portal.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from ?script= instead of inline (CSP script-src 'self').
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="portal/swagger_ui.html"),
        name="api-docs",
    ),
    path("", include("portal.site_urls")),
    path("", include("support.urls")),
    path("catalog/", include("catalog.urls")),
    path("bookings/", include("bookings.urls")),
    path("billing/", include("billing.urls")),
    path("referrals/", include("referrals.urls")),
    path("", include("mailings.urls")),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
