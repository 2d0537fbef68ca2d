"""The bookings export of the back office (CSV/XLSX): times in the organization's city zone, the zone
named in its own columns; see portal.exports for the safety rules."""

from django.utils.translation import pgettext_lazy
from import_export import fields

from bookings.models import Booking
from portal.exports import CityTimeField, ExportResource, LocalTimeField

CITY = "resource.organization.city"


class BookingExport(ExportResource):
    id = fields.Field(attribute="id", column_name="ID", readonly=True)
    organization = fields.Field(
        attribute="resource__organization__name",
        column_name=pgettext_lazy("export column", "organization"),
        readonly=True,
    )
    # Not named "resource": django-import-export's export form has a field of that name.
    bookable = fields.Field(
        attribute="resource__name", column_name=pgettext_lazy("export column", "resource"), readonly=True
    )
    service = fields.Field(
        attribute="service__name", column_name=pgettext_lazy("export column", "service"), readonly=True
    )
    client = fields.Field(attribute="user__email", column_name=pgettext_lazy("export column", "client"), readonly=True)
    status = fields.Field(
        attribute="get_status_display", column_name=pgettext_lazy("export column", "status"), readonly=True
    )
    starts_at = CityTimeField("starts_at", pgettext_lazy("export column", "starts at (city time)"), city=CITY)
    ends_at = CityTimeField("ends_at", pgettext_lazy("export column", "ends at (city time)"), city=CITY)
    city = fields.Field(
        attribute="resource__organization__city__name",
        column_name=pgettext_lazy("export column", "city"),
        readonly=True,
    )
    time_zone = fields.Field(
        attribute="resource__organization__city__timezone",
        column_name=pgettext_lazy("export column", "time zone"),
        readonly=True,
    )
    created_at = LocalTimeField("created_at", pgettext_lazy("export column", "booked at (Moscow time)"))

    class Meta:
        model = Booking
        fields = (
            "id",
            "organization",
            "bookable",
            "service",
            "client",
            "status",
            "starts_at",
            "ends_at",
            "city",
            "time_zone",
            "created_at",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("resource__organization__city", "service", "user")
