"""Back-office exports (CSV/XLSX through django-import-export) that are safe to open in a spreadsheet.

Every exported resource derives from :class:`ExportResource`:

- **formula injection**: a text value starting with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return is written with a leading ``'`` so Excel,
  LibreOffice and Google Sheets show it as text instead of running it (OWASP
  "CSV injection"). Numbers are not touched: a refund of ``-200.00`` stays a
  number;
- **money** is a number (:class:`MoneyField`): a numeric cell in XLSX,
  ``1500.00`` in CSV;
- **times** are written in a named zone (:class:`LocalTimeField`): Moscow for
  the site's records, the organization's city for bookings; the column header
  names the zone and XLSX gets a real date-time cell (spreadsheets have no
  zones, so the header says which one).

Admins opt in with :class:`ExportAdminMixin` (CSV and XLSX, the export page
under the CSP, export limited to staff who may view the model).
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value):
    """A text value a spreadsheet would run as a formula, made plain text with a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class MoneyWidget(widgets.Widget):
    """Money as a number (two decimals): a numeric cell in XLSX, ``1500.00`` in CSV."""

    def render(self, value, obj=None, **kwargs):
        if value is None or value == "":
            return None
        return Decimal(value).quantize(Decimal("0.01"))


class MoneyField(fields.Field):
    def __init__(self, attribute: str, column_name, **kwargs):
        super().__init__(attribute=attribute, column_name=column_name, widget=MoneyWidget(), readonly=True, **kwargs)


class LocalTimeWidget(widgets.Widget):
    """An aware datetime in a zone, without the offset: a date-time cell in XLSX, ``2026-03-12 08:00`` in CSV."""

    def __init__(self, zone: str | None = None):
        super().__init__()
        self.zone = ZoneInfo(zone or settings.TIME_ZONE)

    def render(self, value, obj=None, **kwargs):
        if not value:
            return None
        local = timezone.localtime(value, self.zone).replace(tzinfo=None, second=0, microsecond=0)
        if kwargs.get("force_native_type"):
            return local
        return local.strftime("%Y-%m-%d %H:%M")


class LocalTimeField(fields.Field):
    """A datetime column in the site's zone (Moscow); the header should name it."""

    def __init__(self, attribute: str, column_name, zone: str | None = None, **kwargs):
        super().__init__(
            attribute=attribute, column_name=column_name, widget=LocalTimeWidget(zone), readonly=True, **kwargs
        )


class CityTimeField(fields.Field):
    """A datetime column in the zone of a city reached from the row (``city`` is a dotted path, e.g.
    ``resource.organization.city``); pair it with a column naming the zone."""

    def __init__(self, attribute: str, column_name, city: str, **kwargs):
        super().__init__(attribute=attribute, column_name=column_name, readonly=True, **kwargs)
        self.city_path = city

    def export(self, instance, **kwargs):
        city = instance
        for part in self.city_path.split("."):
            city = getattr(city, part, None)
        zone = getattr(city, "timezone", None) or settings.TIME_ZONE
        return LocalTimeWidget(zone).render(self.get_value(instance), **kwargs)


class ExportResource(resources.ModelResource):
    """A ModelResource whose text cells cannot carry formulas (see the module docstring)."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        # Numbers and times come from numbers and dates, never from text someone typed.
        if isinstance(field, CityTimeField) or isinstance(
            field.widget, (MoneyWidget, LocalTimeWidget, widgets.NumberWidget)
        ):
            return value
        return neutralize_formula(value)


class ExportForm(SelectableFieldsExportForm):
    """The export form whose field boxes are labelled with the (translated) column names only."""

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        return str(field.column_name) if field is not None and field.column_name else field_name


class ExportAdminMixin(ExportMixin):
    """The admin's "Export" button: CSV or XLSX of the filtered list (or of the selected rows)."""

    formats = [CSV, XLSX]
    export_form_class = ExportForm
    export_template_name = "admin/import_export/export.html"
