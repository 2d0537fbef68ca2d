"""Support reads: the back office's queue of tickets and its counts."""

from django.db.models import Case, Count, DateTimeField, F, Q, QuerySet, When

from support.models import Ticket

#: Open (or in work) and the user wrote last, or the support team never wrote.
NEEDS_ANSWER = Q(status__in=Ticket.OPEN_STATUSES) & (
    Q(last_staff_message_at__isnull=True) | Q(last_user_message_at__gt=F("last_staff_message_at"))
)


def tickets_for_staff(queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Tickets waiting for an answer first, the longest waiting on top; then the others, latest activity first.

    Each ticket is annotated with ``waiting_since``: the time of the user's last
    message while it waits for an answer, else None.
    """
    queryset = Ticket.objects.all() if queryset is None else queryset
    return queryset.annotate(
        waiting_since=Case(
            When(NEEDS_ANSWER, then=F("last_user_message_at")), default=None, output_field=DateTimeField()
        )
    ).order_by(F("waiting_since").asc(nulls_last=True), "-updated_at", "-pk")


def ticket_counts() -> dict[str, int]:
    """How many tickets are open (or in work) and how many of them wait for an answer."""
    return Ticket.objects.aggregate(
        open=Count("pk", filter=Q(status__in=Ticket.OPEN_STATUSES)),
        needs_answer=Count("pk", filter=NEEDS_ANSWER),
    )
