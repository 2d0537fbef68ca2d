"""Accounts pages (profile, account linking, the Mini App start page), namespace ``portal``."""

from django.urls import path

from portal import site_views

app_name = "portal"
urlpatterns = [
    path("profile/", site_views.profile, name="profile"),
    path("profile/telegram-link/", site_views.telegram_link, name="telegram_link"),
    path("profile/delete/", site_views.account_delete, name="account_delete"),
    path("miniapp/open/", site_views.miniapp_open, name="miniapp_open"),
]
