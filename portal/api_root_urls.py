"""Project wiring: everything under /api/v1/, each app's own ``api_urls`` (portal's are ``account_api_urls``)."""

from django.urls import include, path

urlpatterns = [
    path("", include("portal.account_api_urls")),
    path("", include("support.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("bookings.api_urls")),
    path("billing/", include("billing.api_urls")),
    path("referrals/", include("referrals.api_urls")),
]
