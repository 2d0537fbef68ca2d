"""Back-office exports (organizations, bookings, payments, ledger) as CSV and XLSX from the admin:
formulas neutralised, money as numbers, times in Moscow or the city's zone with the zone named."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from billing import services as billing
from billing.models import LedgerEntry
from billing.tests.factories import PaymentFactory
from bookings.tests.factories import BookingFactory, ResourceFactory
from catalog.tests.factories import OrganizationFactory
from portal.exports import neutralize_formula
from portal.tests.factories import CityFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"  # the order of ExportAdminMixin.formats


def export(client, changelist: str, file_format: str, query: str = ""):
    """Submit the admin's export form as staff do: every field of the (single) resource."""
    page = client.get(f"{changelist}export/{query}")
    assert page.status_code == 200
    form = page.context["form"]
    data = {"format": file_format, "resource": "0"}
    data.update({name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)})
    response = client.post(f"{changelist}export/{query}", data)
    assert response.status_code == 200, response.content[:500]
    return response


def csv_rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+7 900", "'+7 900"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Кофейня", "Кофейня"),
        ("", ""),
        (Decimal("-200.00"), Decimal("-200.00")),
        (None, None),
    ],
)
def test_neutralize_formula(value, expected):
    assert neutralize_formula(value) == expected


def test_organizations_csv_neutralises_formulas_and_writes_moscow_time(staff_client):
    owner = UserFactory(email="owner@example.com")
    org = OrganizationFactory(owner=owner, name='=HYPERLINK("http://evil","Жми")', phone="+79001234567")
    org.created_at = datetime(2026, 3, 12, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
    org.save(update_fields=["created_at"])

    response = export(staff_client, "/admin/catalog/organization/", CSV_FORMAT)

    assert response["Content-Type"].startswith("text/csv")
    (row,) = csv_rows(response)
    assert row["название"] == '\'=HYPERLINK("http://evil","Жми")'
    assert row["телефон"] == "'+79001234567"
    assert row["владелец"] == "owner@example.com"
    assert row["создана (время московское)"] == "2026-03-12 08:00"


def test_bookings_xlsx_are_in_the_city_zone_with_the_zone_named(staff_client):
    novosibirsk = CityFactory(name="Новосибирск", slug="nsk", timezone="Asia/Novosibirsk")
    resource = ResourceFactory(organization=OrganizationFactory(city=novosibirsk), name="@Переговорная")
    starts = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)  # 08:00 in Novosibirsk (UTC+7)
    BookingFactory(resource=resource, starts_at=starts, ends_at=starts.replace(hour=2))

    response = export(staff_client, "/admin/bookings/booking/", XLSX_FORMAT)

    (row,) = xlsx_rows(response)
    assert row["начало (время города)"] == datetime(2026, 3, 12, 8, 0)
    assert row["конец (время города)"] == datetime(2026, 3, 12, 9, 0)
    assert (row["город"], row["часовой пояс"]) == ("Новосибирск", "Asia/Novosibirsk")
    assert row["ресурс"] == "'@Переговорная"


def test_payments_and_ledger_money_is_numeric(staff_client, staff_user):
    user = UserFactory(email="payer@example.com")
    PaymentFactory(user=user, amount=Decimal("1990.50"), description="-2+3")
    billing.balance_credit(user=user, amount=Decimal("1500.00"), kind=LedgerEntry.Kind.TOPUP)
    billing.balance_grant(user=user, amount=Decimal("-200.00"), reason="=cmd|' /C calc'!A0", created_by=staff_user)

    payments = xlsx_rows(export(staff_client, "/admin/billing/payment/", XLSX_FORMAT))
    ledger_xlsx = xlsx_rows(export(staff_client, "/admin/billing/ledgerentry/", XLSX_FORMAT))
    ledger_csv = csv_rows(export(staff_client, "/admin/billing/ledgerentry/", CSV_FORMAT))

    assert payments[0]["сумма, ₽"] == 1990.5
    assert "счёт создан (время московское)" in payments[0]
    assert payments[0]["описание"] == "'-2+3"
    amounts = sorted(row["сумма, ₽"] for row in ledger_xlsx)
    assert amounts == [-200, 1500]
    assert all(isinstance(value, int | float) for value in amounts)
    grant = next(row for row in ledger_csv if row["сумма, ₽"] == "-200.00")  # a number, not "'-200.00"
    assert grant["основание / описание"].startswith("'=cmd")


def test_export_follows_the_list_filter(staff_client):
    OrganizationFactory(name="Опубликованная", status="published")
    OrganizationFactory(name="Черновик", status="draft")

    rows = csv_rows(export(staff_client, "/admin/catalog/organization/", CSV_FORMAT, "?status__exact=draft"))

    assert [row["название"] for row in rows] == ["Черновик"]


def test_export_needs_the_view_permission(client):
    staff = UserFactory(is_staff=True)
    from portal.tests.mfa import session_pass_second_factor, totp_activate

    totp_activate(staff)
    client.force_login(staff)
    session_pass_second_factor(client, staff)

    assert client.get("/admin/billing/ledgerentry/export/").status_code == 403


def test_the_list_pages_offer_the_export(staff_client):
    for changelist in (
        "/admin/catalog/organization/",
        "/admin/bookings/booking/",
        "/admin/billing/payment/",
        "/admin/billing/ledgerentry/",
    ):
        html = staff_client.get(changelist).content.decode()
        assert f'href="{changelist}export/' in html, changelist
