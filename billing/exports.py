"""The payments and ledger exports of the back office (CSV/XLSX) for the accountant: money as numbers,
times in Moscow time; see portal.exports for the safety rules."""

from django.utils.translation import pgettext_lazy
from import_export import fields

from billing.models import LedgerEntry, Payment
from portal.exports import ExportResource, LocalTimeField, MoneyField


class PaymentExport(ExportResource):
    id = fields.Field(attribute="id", column_name=pgettext_lazy("export column", "invoice (InvId)"), readonly=True)
    user = fields.Field(attribute="user__email", column_name=pgettext_lazy("export column", "user"), readonly=True)
    amount = MoneyField("amount", pgettext_lazy("export column", "amount, RUB"))
    status = fields.Field(
        attribute="get_status_display", column_name=pgettext_lazy("export column", "status"), readonly=True
    )
    description = fields.Field(
        attribute="description", column_name=pgettext_lazy("export column", "description"), readonly=True
    )
    created_at = LocalTimeField("created_at", pgettext_lazy("export column", "invoice created at (Moscow time)"))
    paid_at = LocalTimeField("paid_at", pgettext_lazy("export column", "paid at (Moscow time)"))

    class Meta:
        model = Payment
        fields = ("id", "user", "amount", "status", "description", "created_at", "paid_at")
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("user")


class LedgerExport(ExportResource):
    id = fields.Field(attribute="id", column_name="ID", readonly=True)
    created_at = LocalTimeField("created_at", pgettext_lazy("export column", "date (Moscow time)"))
    user = fields.Field(attribute="user__email", column_name=pgettext_lazy("export column", "user"), readonly=True)
    kind = fields.Field(attribute="get_kind_display", column_name=pgettext_lazy("export column", "kind"), readonly=True)
    amount = MoneyField("amount", pgettext_lazy("export column", "amount, RUB"))
    balance_after = MoneyField("balance_after", pgettext_lazy("export column", "balance after, RUB"))
    description = fields.Field(
        attribute="description", column_name=pgettext_lazy("export column", "reason / description"), readonly=True
    )
    reference = fields.Field(
        attribute="reference", column_name=pgettext_lazy("export column", "reference"), readonly=True
    )
    created_by = fields.Field(
        attribute="created_by__email", column_name=pgettext_lazy("export column", "recorded by"), readonly=True
    )

    class Meta:
        model = LedgerEntry
        fields = (
            "id",
            "created_at",
            "user",
            "kind",
            "amount",
            "balance_after",
            "description",
            "reference",
            "created_by",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("user", "created_by")
