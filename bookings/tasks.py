"""Thin Celery tasks for bookings."""

from celery import shared_task


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def send_booking_reminders() -> None:
    """Send due booking reminders (bookings feature)."""


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def mark_no_shows() -> None:
    """Mark bookings nobody checked in to as no-shows (bookings feature)."""
