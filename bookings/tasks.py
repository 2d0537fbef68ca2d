"""Thin Celery tasks for bookings.

Beat runs them (reminders every minute, no-shows every 15 minutes, review
reminders hourly); each is idempotent. A transient error is retried a couple
of times within the run's time limit (portal.retries); anything else fails the
run, and the next run does the same work.
"""

from celery import shared_task

from bookings import services
from portal.retries import retry_policy

BEAT_RETRIES = retry_policy(time_limit=300, max_retries=2, backoff_max=20)


@shared_task(**BEAT_RETRIES)
def send_booking_reminders() -> int:
    """Send due booking reminders (each person, offset and start time once)."""
    return services.booking_reminders_send()


@shared_task(**BEAT_RETRIES)
def mark_no_shows() -> dict:
    """Mark bookings nobody checked in to as no-shows, checked-in ones as completed."""
    return services.booking_mark_no_shows()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def send_review_reminders() -> int:
    """Ask yesterday's clients for a review (each visit once)."""
    return services.review_reminders_send()
