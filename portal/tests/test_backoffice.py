"""The back office's frame: Citydesk branding, the start page's figures from every app, Russian wording
that reads right with any model name, times in the city's zone with the zone named."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone, translation

from billing import services as billing
from bookings.tests.factories import BookingFactory, ResourceFactory
from catalog.tests.factories import OrganizationFactory
from mailings.models import Mailing
from portal.admin_dashboard import Figure, dashboard_figures, dashboard_register
from portal.local_time import city_datetime
from portal.tests.factories import CityFactory, UserFactory
from support.services import ticket_create

pytestmark = pytest.mark.django_db


def test_the_admin_is_branded_citydesk(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()

    assert "<title>Панель управления | Citydesk</title>" in html
    assert "Citydesk</a>" in html
    assert "Администрирование Django" not in html and "Django administration" not in html


def test_the_start_page_shows_todays_figures_with_links(midday, staff_client, staff_user, user):
    owner = UserFactory()
    resource = ResourceFactory(organization=OrganizationFactory(owner=owner))
    BookingFactory(resource=resource, starts_at=timezone.now() + timedelta(minutes=30))
    billing.balance_credit(user=owner, amount=Decimal("1500.00"), kind="topup")
    ticket_create(user=user, subject="Вопрос", text="?")
    Mailing.objects.create(
        name="Идёт", text="x", send_at=timezone.now(), audience="subscribers", channels=["telegram"], status="sending"
    )

    response = staff_client.get(reverse("admin:index"))

    figures = {figure.key: figure for figure in response.context["figures"]}
    assert figures["bookings_today"].value == 1
    assert figures["topups_today"].value == "1\xa0500\xa0₽"
    assert figures["tickets_open"].value == 1 and figures["tickets_waiting"].attention
    assert figures["mailings_sending"].value == 1
    assert list(figures) == [
        "bookings_today",
        "topups_today",
        "revenue_today",
        "mailings_sending",
        "tickets_open",
        "tickets_waiting",
    ]
    html = response.content.decode()
    for figure in figures.values():
        assert f'href="{figure.url}"' in html.replace("&amp;", "&")
        assert staff_client.get(figure.url).status_code == 200, figure.url


def test_a_failing_figure_provider_does_not_break_the_start_page(staff_client):
    def broken(request):
        raise RuntimeError("boom")

    dashboard_register(key="zz_broken", provider=broken, order=999)
    try:
        assert staff_client.get(reverse("admin:index")).status_code == 200
    finally:
        from portal import admin_dashboard

        admin_dashboard._PROVIDERS.pop("zz_broken")


def test_providers_run_in_order(rf):
    dashboard_register(key="zz_first", provider=lambda r: [Figure(key="a", label="A", value=1)], order=-2)
    dashboard_register(key="zz_second", provider=lambda r: [Figure(key="b", label="B", value=2)], order=-1)
    try:
        keys = [figure.key for figure in dashboard_figures(rf.get("/"))]
        assert keys[:2] == ["a", "b"]
    finally:
        from portal import admin_dashboard

        admin_dashboard._PROVIDERS.pop("zz_first")
        admin_dashboard._PROVIDERS.pop("zz_second")


# --- Russian wording -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "present", "absent"),
    [
        (
            "/admin/portal/user/",
            ["Выбор объекта для изменения: пользователь", "Пользователи: "],
            ["Выберите пользователь"],
        ),
        ("/admin/catalog/organization/", ["Добавить: организация"], ["Добавить организация"]),
        ("/admin/catalog/organization/add/", ["Добавление: организация"], ["Добавить организация"]),
        ("/admin/django_celery_beat/periodictask/", ["Периодические задачи"], ["Периодические Задачи"]),
    ],
)
def test_admin_phrases_read_right_with_nominative_model_names(staff_client, path, present, absent):
    html = staff_client.get(path).content.decode()

    for text in present:
        assert text in html, text
    for text in absent:
        assert text not in html, text


def test_the_paginator_counts_without_declining_the_model_name(staff_client):
    UserFactory.create_batch(4)

    html = staff_client.get("/admin/portal/user/").content.decode()

    assert "Пользователи: 5" in html  # four users and the staff member
    assert "5 пользователи" not in html


def test_every_model_in_the_admin_has_a_russian_name():
    latin = []
    with translation.override("ru"):
        for model in admin.site._registry:
            opts = model._meta
            for name in (opts.verbose_name, opts.verbose_name_plural, opts.app_config.verbose_name):
                if str(name).isascii() and str(name) not in {"crontab", "crontabs"}:
                    latin.append(f"{opts.label}: {name}")
    assert not latin, latin


def test_bulk_action_messages_use_russian_plural_forms(reauthenticated_staff_client):
    users = UserFactory.create_batch(5)

    response = reauthenticated_staff_client.post(
        "/admin/portal/user/",
        {"action": "verify_users", "_selected_action": [u.pk for u in users]},
        follow=True,
    )

    assert "Подтверждено 5 пользователей." in [str(m) for m in response.context["messages"]]


def test_ticket_history_is_written_in_russian(staff_user, user):
    from support.models import TicketStatusChange
    from support.services import ticket_change_status

    ticket = ticket_create(user=user, subject="x", text="y")
    ticket_change_status(ticket=ticket, status="in_progress", by=staff_user)

    with translation.override("ru"):
        assert str(TicketStatusChange.objects.get()) == f"№{ticket.pk}: открыто → в работе"


# --- times in the city's zone, the zone named ---------------------------------------------------


def test_city_datetime_names_the_zone():
    moment = datetime(2026, 3, 12, 5, 0, tzinfo=UTC)
    novosibirsk = CityFactory(name="Новосибирск", slug="nsk", timezone="Asia/Novosibirsk")

    with translation.override("ru"):
        assert city_datetime(moment, CityFactory()) == "12 марта 2026, 08:00 (Москва)"
        assert city_datetime(moment, novosibirsk) == "12 марта 2026, 12:00 (Новосибирск)"
        assert city_datetime(moment) == "12 марта 2026, 08:00 (Москва)"
        assert city_datetime(None) == ""


def test_a_bookings_title_is_in_the_city_zone(staff_client):
    resource = ResourceFactory(name="Переговорная")
    booking = BookingFactory(resource=resource, starts_at=datetime(2030, 3, 12, 5, 0, tzinfo=UTC))

    with translation.override("ru"):
        assert str(booking) == "Переговорная · 12 марта 2030, 08:00 (Москва)"
    html = staff_client.get("/admin/bookings/booking/").content.decode()
    assert "12 марта 2030, 08:00–09:00 (Москва)" in html
