from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.models import Organization
from catalog.services import listing_extend
from catalog.tests.factories import OrganizationFactory
from portal.services import user_block, user_unblock

pytestmark = pytest.mark.django_db


def test_published_listed_with_active_owner_is_visible():
    org = OrganizationFactory()
    assert list(Organization.objects.visible()) == [org]


@pytest.mark.parametrize("status", [Organization.Status.DRAFT, Organization.Status.HIDDEN])
def test_not_published_is_not_visible(status):
    OrganizationFactory(status=status)
    assert not Organization.objects.visible().exists()


def test_blocked_owner_hides_organization_and_unblock_shows_it():
    org = OrganizationFactory()
    user_block(user=org.owner, reason="спам")
    assert not Organization.objects.visible().exists()
    user_unblock(user=org.owner)
    assert Organization.objects.visible().get() == org


def test_never_listed_is_not_visible():
    OrganizationFactory(listed_until=None)
    assert not Organization.objects.visible().exists()


def test_listing_expiry_hides_organization():
    org = OrganizationFactory(listed_until=timezone.now() + timedelta(hours=1))
    assert Organization.objects.visible().get() == org
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert not Organization.objects.visible().exists()


def test_listing_extend_only_moves_forward():
    until = timezone.now() + timedelta(days=10)
    org = OrganizationFactory(listed_until=until)
    listing_extend(organization=org, until=until - timedelta(days=5))
    org.refresh_from_db()
    assert org.listed_until == until
    listing_extend(organization=org, until=until + timedelta(days=30))
    org.refresh_from_db()
    assert org.listed_until == until + timedelta(days=30)


def test_sitemap_lists_visible_organizations_only():
    from catalog.sitemaps import OrganizationSitemap

    visible = OrganizationFactory()
    OrganizationFactory(status="draft")
    OrganizationFactory(listed_until=None)
    assert list(OrganizationSitemap().items()) == [visible]
