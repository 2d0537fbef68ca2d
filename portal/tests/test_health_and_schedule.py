import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_dependency(client):
    response = client.get("/healthz")

    body = response.json()
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert response.status_code == (200 if body["status"] == "ok" else 503)


def test_fresh_database_has_the_beat_schedule():
    from django_celery_beat.models import PeriodicTask

    tasks = set(PeriodicTask.objects.values_list("task", flat=True))

    assert {
        "mailings.tasks.dispatch_due_mailings",
        "bookings.tasks.send_booking_reminders",
        "billing.tasks.renew_subscriptions",
        "billing.tasks.remind_expiring_subscriptions",
        "billing.tasks.snapshot_revenue",
        "billing.tasks.expire_pending_payments",
    } <= tasks


def test_schedule_sync_is_idempotent_and_keeps_admin_edits():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from portal.schedule import SCHEDULE, beat_schedule_sync

    entry = PeriodicTask.objects.get(name="Dispatch due mailings")
    slower, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    entry.interval = slower
    entry.enabled = False
    entry.task = "stale.path"
    entry.save()

    created = beat_schedule_sync()

    entry.refresh_from_db()
    assert created == []
    assert PeriodicTask.objects.filter(name__in=[e.name for e in SCHEDULE]).count() == len(SCHEDULE)
    assert entry.interval == slower and entry.enabled is False  # staff edits survive
    assert entry.task == "mailings.tasks.dispatch_due_mailings"  # the code owns the task path


def test_schedule_sync_recreates_deleted_entries():
    from django_celery_beat.models import PeriodicTask

    from portal.schedule import beat_schedule_sync

    PeriodicTask.objects.filter(name="Renew subscriptions").delete()

    assert beat_schedule_sync() == ["Renew subscriptions"]
    assert PeriodicTask.objects.get(name="Renew subscriptions").crontab.minute == "5"
