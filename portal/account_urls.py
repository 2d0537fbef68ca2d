"""Accounts pages (profile, account linking, account deletion, the Mini App start page), namespace ``portal``."""

from django.urls import path

from portal import account_views

app_name = "portal"
urlpatterns = [
    path("profile/", account_views.profile, name="profile"),
    path("profile/telegram-link/", account_views.telegram_link, name="telegram_link"),
    path("profile/delete/", account_views.account_delete, name="account_delete"),
    path("miniapp/open/", account_views.miniapp_open, name="miniapp_open"),
]
