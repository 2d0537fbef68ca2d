"""Sitemap of the public catalog (only visible organizations).

Mount it in the site's URLconf, e.g.
``path("sitemap.xml", sitemap, {"sitemaps": {"catalog": OrganizationSitemap}})``.
"""

from django.contrib.sitemaps import Sitemap

from catalog.models import Organization


class OrganizationSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6
    limit = 5000

    def items(self):
        return Organization.objects.visible().only("pk", "updated_at").order_by("pk")

    def lastmod(self, obj):
        return obj.updated_at
