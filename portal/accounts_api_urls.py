"""Accounts and support endpoints beyond /me/ (Mini App auth, avatar, linking, tickets)."""

from django.urls import path

from portal import api

urlpatterns = [
    path("auth/miniapp/", api.MiniAppSessionView.as_view(), name="auth-miniapp"),
    path("me/avatar/", api.MeAvatarView.as_view(), name="me-avatar"),
    path("me/telegram-link/", api.TelegramLinkView.as_view(), name="me-telegram-link"),
    path("tickets/", api.TicketListCreateView.as_view(), name="ticket-list"),
    path("tickets/<id:pk>/", api.TicketDetailView.as_view(), name="ticket-detail"),
]
