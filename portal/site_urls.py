"""Accounts and support pages (profile, tickets…), namespace ``portal``."""

from django.urls import path

from portal import site_views

app_name = "portal"
urlpatterns = [
    path("profile/", site_views.profile, name="profile"),
    path("profile/telegram-link/", site_views.telegram_link, name="telegram_link"),
    path("profile/delete/", site_views.account_delete, name="account_delete"),
    path("tickets/", site_views.tickets, name="tickets"),
    path("tickets/new/", site_views.ticket_create, name="ticket_create"),
    path("tickets/<id:pk>/", site_views.ticket_detail, name="ticket_detail"),
    path("tickets/<id:pk>/close/", site_views.ticket_close, name="ticket_close"),
]
