"""`manage.py seed_demo` (run by `make run`): every app's demo data loads, twice, changing nothing the second time."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from catalog.models import Service
from mailings.demo import DEMO_MAILING
from mailings.models import Mailing
from portal.demo import DEMO_PASSWORD, DEMO_USERS, STAFF_EMAIL
from portal.models import User
from support.demo import DEMO_TICKETS
from support.models import Ticket

pytestmark = pytest.mark.django_db

OUR_APPS = ["portal", "catalog", "billing", "bookings", "referrals", "mailings", "support"]


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
    }


def test_seed_demo_is_idempotent_and_prints_the_credentials(django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)
    first = row_counts()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())

    assert row_counts() == first
    printed = out.getvalue()
    assert f"{STAFF_EMAIL} / {DEMO_PASSWORD}" in printed
    assert "Demo data is ready." in printed


def test_demo_accounts_can_log_in(client):
    call_command("seed_demo", stdout=io.StringIO())

    for email in [STAFF_EMAIL, *(email for email, *_names in DEMO_USERS)]:
        client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert "_auth_user_id" in client.session, email
        client.logout()
    # the demo staff member sets up two-factor authentication before the admin opens
    client.post("/accounts/login/", {"login": STAFF_EMAIL, "password": DEMO_PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_rerun_survives_users_adding_rows_named_like_the_demo_ones():
    # Demo users work with the portal between two `make run`s: a second ticket
    # with a demo subject, another mailing with the demo name, a duplicate service.
    call_command("seed_demo", stdout=io.StringIO())
    index, subject, _text, _status = DEMO_TICKETS[0]
    Ticket.objects.create(user=User.objects.get(email=DEMO_USERS[index][0]), subject=subject, text="Ещё раз")
    Mailing.objects.create(name=DEMO_MAILING, text="Копия", send_at=Mailing.objects.get().send_at, channels=["email"])
    service = Service.objects.order_by("pk").first()
    Service.objects.create(organization=service.organization, name=service.name, price=1, duration_minutes=15)
    before = row_counts()

    call_command("seed_demo", stdout=io.StringIO())

    assert row_counts() == before


def test_every_demo_organization_with_services_can_be_booked():
    """No dead ends: each demo organization has places or specialists and hours, and each of its
    services has someone who offers it, so every book button leads to free time."""
    from bookings.models import Booking
    from bookings.selectors import organization_bookability
    from catalog.models import Organization

    call_command("seed_demo", stdout=io.StringIO())

    organizations = Organization.objects.filter(services__is_active=True).distinct()
    assert organizations.count() >= 30
    for organization in organizations:
        bookability = organization_bookability(organization=organization)
        assert bookability.is_bookable, organization.name
        active = set(organization.services.filter(is_active=True).values_list("pk", flat=True))
        assert bookability.bookable_service_ids == active, organization.name
    # the demo users have bookings ahead and behind them: attended and missed ones too
    for email, *_names in DEMO_USERS:
        mine = Booking.objects.filter(user__email=email)
        assert mine.filter(status=Booking.Status.CONFIRMED).exists(), email
        assert mine.filter(status=Booking.Status.COMPLETED, checked_in_at__isnull=False).exists(), email
    assert Booking.objects.filter(status=Booking.Status.NO_SHOW).exists()
