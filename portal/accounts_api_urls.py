"""Accounts endpoints beyond /me/ (Mini App auth, avatar, linking)."""

from django.urls import path

from portal import api

urlpatterns = [
    path("auth/miniapp/", api.MiniAppSessionView.as_view(), name="auth-miniapp"),
    path("me/avatar/", api.MeAvatarView.as_view(), name="me-avatar"),
    path("me/telegram-link/", api.TelegramLinkView.as_view(), name="me-telegram-link"),
]
