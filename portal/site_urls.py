"""Accounts and support pages (profile, tickets…), namespace ``portal``."""

app_name = "portal"
urlpatterns: list = []
