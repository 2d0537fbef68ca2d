"""The accounts API: the current user, Mini App sign-in, avatar, Telegram linking."""

from django.urls import path

from portal import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("auth/miniapp/", api.MiniAppSessionView.as_view(), name="auth-miniapp"),
    path("me/avatar/", api.MeAvatarView.as_view(), name="me-avatar"),
    path("me/telegram-link/", api.TelegramLinkView.as_view(), name="me-telegram-link"),
]
