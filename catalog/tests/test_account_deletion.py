"""portal.signals.user_erasing in catalog: a deleted owner's organizations leave the catalog."""

import pytest

from catalog.models import Organization
from catalog.tests.factories import OrganizationFactory
from portal.services import user_block, user_delete

pytestmark = pytest.mark.django_db


def test_owned_organizations_are_hidden_and_others_stay(user, other_user, api_client):
    published = OrganizationFactory(owner=user)
    draft = OrganizationFactory(owner=user, status=Organization.Status.DRAFT)
    theirs = OrganizationFactory(owner=other_user)
    assert published.pk in [o["id"] for o in api_client.get("/api/v1/organizations/").json()["results"]]

    user_delete(user=user)

    assert set(Organization.objects.filter(owner=user).values_list("status", flat=True)) == {"hidden"}
    assert not draft.__class__.objects.get(pk=draft.pk).hidden_by_staff
    listed = [o["id"] for o in api_client.get("/api/v1/organizations/").json()["results"]]
    assert published.pk not in listed and theirs.pk in listed
    assert api_client.get(f"/api/v1/organizations/{published.pk}/").status_code == 404


def test_a_blocked_owner_erased_by_staff_is_hidden_too(user, staff_user):
    organization = OrganizationFactory(owner=user)
    user_block(user=user, reason="Мошенничество", by=staff_user)

    user_delete(user=user, by=staff_user)

    organization.refresh_from_db()
    assert organization.status == Organization.Status.HIDDEN
