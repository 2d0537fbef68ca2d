from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_site_record_follows_site_url(settings):
    from django.contrib.sites.models import Site

    from portal.site_record import site_record_sync

    settings.SITE_URL = "https://citydesk.example.ru"
    site_record_sync()

    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("citydesk.example.ru", "Citydesk")


def test_sitemap_lists_only_visible_organizations(client):
    from catalog.tests.factories import OrganizationFactory

    visible = OrganizationFactory(name="Видимая")
    lapsed = OrganizationFactory(listed_until=timezone.now() - timedelta(days=1))
    draft = OrganizationFactory(status="draft")

    response = client.get("/sitemap.xml")

    body = response.content.decode()
    assert response.status_code == 200
    assert visible.get_absolute_url() in body
    assert lapsed.get_absolute_url() not in body
    assert draft.get_absolute_url() not in body
