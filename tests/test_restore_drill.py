"""The backup of docs/operations.md restores: pg_dump, pg_restore into a new database, same rows."""

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"), reason="needs pg_dump"),
]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_new_database_with_every_row(tmp_path):
    from billing.services import balance_credit
    from bookings.models import Booking
    from bookings.tests.factories import BookingFactory
    from catalog.models import Organization
    from catalog.tests.factories import OrganizationFactory
    from portal.models import User
    from portal.tests.factories import UserFactory

    # given: data in several apps, committed (a transactional test)
    users = UserFactory.create_batch(3)
    OrganizationFactory.create_batch(2, owner=users[0])
    start = timezone.now() + timedelta(days=3)
    BookingFactory(user=users[1], starts_at=start, ends_at=start + timedelta(hours=1))
    balance_credit(user=users[2], amount=Decimal("150.00"), kind="topup")

    # when: the drill dumps, restores and compares
    result = subprocess.run(
        [sys.executable, "scripts/restore_drill.py", "--database-url", database_url(), "--dump", str(tmp_path / "d")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # then: every table came back with the same rows, and the dump is kept where asked
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and not report["mismatched_tables"] and not any(report["missing"].values())
    counts = report["restored_counts"]
    assert counts[User._meta.db_table] == User.objects.count() >= 3
    assert counts[Organization._meta.db_table] == Organization.objects.count() >= 2
    assert counts[Booking._meta.db_table] == Booking.objects.count() == 1
    assert counts["billing_ledgerentry"] == 1
    assert report["tables"] > 30
    assert (tmp_path / "d").stat().st_size == report["dump_bytes"] > 0
    with connection.cursor() as cursor:  # the scratch database was dropped
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [report["restored_into"]])
        assert cursor.fetchone()[0] == 0
