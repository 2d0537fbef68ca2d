"""Thin Celery tasks for support: each calls one service and is safe to run twice."""

from celery import shared_task

from support import services


@shared_task(
    acks_late=True, time_limit=60, soft_time_limit=50, autoretry_for=(Exception,), max_retries=5, retry_backoff=True
)
def deliver_appeal_answer(ticket_id: int, text: str) -> bool:
    """Email the support team's answer to the contact address of an appeal that has no account."""
    return services.appeal_answer_deliver(ticket_id=ticket_id, text=text)
