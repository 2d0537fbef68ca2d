"""Catalog services (writes with business rules)."""

from datetime import datetime

from django.db import transaction

from catalog.models import Organization


@transaction.atomic
def listing_extend(*, organization: Organization, until: datetime) -> Organization:
    """Keep ``organization`` listed until ``until``; the one way billing changes it.

    The listing never moves backwards: an earlier ``until`` leaves it as is.
    """
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.listed_until is None or until > organization.listed_until:
        organization.listed_until = until
        organization.save(update_fields=["listed_until", "updated_at"])
    return organization
