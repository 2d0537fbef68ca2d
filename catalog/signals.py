"""Invalidate the cached public catalog whenever something it shows changes; hide a deleted owner's listings."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog.cache import catalog_changed
from catalog.models import Category, City, Organization, OrganizationPhoto, Service


def _bump(**kwargs):
    # After commit, so a reader never caches the old state under the new version.
    catalog_changed()
    transaction.on_commit(catalog_changed)


def _user_saved(sender, instance, update_fields=None, **kwargs):
    # Blocking or unblocking an owner hides or shows their organizations.
    if update_fields is not None and "is_blocked" not in update_fields:
        return
    if instance.pk and Organization.objects.filter(owner_id=instance.pk).exists():
        _bump()


def on_user_erasing(sender, *, user, **kwargs) -> None:
    """portal.signals.user_erasing: a deleted account's organizations leave the catalog."""
    from catalog.services import organizations_hide_for_owner

    organizations_hide_for_owner(owner=user)


def connect() -> None:
    from portal.signals import user_erasing

    user_erasing.connect(on_user_erasing, dispatch_uid="catalog.hide_erased_owner")
    for model in (Organization, OrganizationPhoto, Service, City, Category):
        post_save.connect(_bump, sender=model, dispatch_uid=f"catalog-cache-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"catalog-cache-delete-{model.__name__}")
    m2m_changed.connect(_bump, sender=Organization.categories.through, dispatch_uid="catalog-cache-m2m")
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="catalog-cache-user")
