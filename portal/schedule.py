"""The beat schedule, declared in code and synced into django-celery-beat.

Each entry is found by name. A missing entry is created with its timing; an
existing one keeps the timing and enabled flag staff may have edited in the
admin, only its task path and options are brought up to date.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

EVERY_MINUTE = {"interval": (1, "minutes")}
HOURLY = {"crontab": {"minute": "5"}}
DAILY = {"crontab": {"minute": "0", "hour": "10"}}


@dataclass(frozen=True)
class Entry:
    name: str
    task: str
    when: dict
    options: dict = field(default_factory=dict)


SCHEDULE: list[Entry] = [
    Entry("Dispatch due mailings", "mailings.tasks.dispatch_due_mailings", EVERY_MINUTE),
    Entry("Send booking reminders", "bookings.tasks.send_booking_reminders", EVERY_MINUTE),
    Entry("Mark booking no-shows", "bookings.tasks.mark_no_shows", {"interval": (15, "minutes")}),
    Entry("Send review reminders", "bookings.tasks.send_review_reminders", {"crontab": {"minute": "20"}}),
    Entry("Renew subscriptions", "billing.tasks.renew_subscriptions", HOURLY),
    Entry("Remind expiring subscriptions", "billing.tasks.remind_expiring_subscriptions", DAILY),
    Entry("Snapshot revenue", "billing.tasks.snapshot_revenue", {"crontab": {"minute": "15"}}),
    Entry("Expire unpaid top-ups", "billing.tasks.expire_pending_payments", {"interval": (5, "minutes")}),
]


def _schedule_for(when: dict) -> dict:
    if "interval" in when:
        every, period = when["interval"]
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        return {"interval": interval, "crontab": None}
    spec = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
    spec.update(when["crontab"])
    crontab, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **spec)
    return {"crontab": crontab, "interval": None}


def beat_schedule_sync() -> list[str]:
    """Create or update every periodic task in SCHEDULE; return the names created."""
    created_names = []
    for entry in SCHEDULE:
        _task, created = PeriodicTask.objects.update_or_create(
            name=entry.name,
            defaults={"task": entry.task, "kwargs": json.dumps({}), "queue": entry.options.get("queue")},
            create_defaults={
                "task": entry.task,
                "kwargs": json.dumps({}),
                "queue": entry.options.get("queue"),
                "enabled": True,
                **_schedule_for(entry.when),
            },
        )
        if created:
            created_names.append(entry.name)
    return created_names


def sync_after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: install the schedule once its tables exist."""
    if "django_celery_beat_periodictask" not in connection.introspection.table_names():
        return
    beat_schedule_sync()
