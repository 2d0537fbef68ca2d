"""The organizations export of the back office (CSV/XLSX): see portal.exports for the safety rules."""

from django.utils.translation import pgettext_lazy
from import_export import fields

from catalog.models import Organization
from portal.exports import ExportResource, LocalTimeField


class OrganizationExport(ExportResource):
    id = fields.Field(attribute="id", column_name="ID", readonly=True)
    name = fields.Field(attribute="name", column_name=pgettext_lazy("export column", "name"), readonly=True)
    city = fields.Field(attribute="city__name", column_name=pgettext_lazy("export column", "city"), readonly=True)
    status = fields.Field(
        attribute="get_status_display", column_name=pgettext_lazy("export column", "status"), readonly=True
    )
    categories = fields.Field(column_name=pgettext_lazy("export column", "categories"), readonly=True)
    owner = fields.Field(attribute="owner__email", column_name=pgettext_lazy("export column", "owner"), readonly=True)
    phone = fields.Field(attribute="phone", column_name=pgettext_lazy("export column", "phone"), readonly=True)
    address = fields.Field(attribute="address", column_name=pgettext_lazy("export column", "address"), readonly=True)
    website = fields.Field(attribute="website", column_name=pgettext_lazy("export column", "website"), readonly=True)
    listed_until = LocalTimeField("listed_until", pgettext_lazy("export column", "listed until (Moscow time)"))
    created_at = LocalTimeField("created_at", pgettext_lazy("export column", "created at (Moscow time)"))

    class Meta:
        model = Organization
        fields = (
            "id",
            "name",
            "city",
            "status",
            "categories",
            "owner",
            "phone",
            "address",
            "website",
            "listed_until",
            "created_at",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("city", "owner").prefetch_related("categories")

    def dehydrate_categories(self, organization) -> str:
        return ", ".join(category.name for category in organization.categories.all())
