"""Accounts and support endpoints beyond /me/ (Mini App auth, tickets…)."""

urlpatterns: list = []
