"""Everything under /api/v1/: each app contributes its own ``api_urls``."""

from django.urls import include, path

from portal.api import MeView

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("", include("portal.accounts_api_urls")),
    path("", include("support.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("bookings.api_urls")),
    path("billing/", include("billing.api_urls")),
    path("referrals/", include("referrals.api_urls")),
    path("", include("mailings.api_urls")),
]
