"""Support pages: my tickets, a new ticket, one ticket with its history, closing it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import errors
from portal.throttling import throttle
from support import services
from support.forms import TicketForm
from support.models import Ticket

TICKETS_PER_PAGE = 20


@login_required
def tickets(request):
    queryset = Ticket.objects.filter(user=request.user).order_by("-created_at", "-pk")
    page = Paginator(queryset, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "support/tickets/list.html", {"page": page})


@login_required
@throttle("ticket")
def ticket_create(request):
    if request.method == "POST":
        form = TicketForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                ticket = services.ticket_create(user=request.user, **form.cleaned_data)
            except errors.DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your request has been sent. We will answer soon."))
                return redirect("support:ticket_detail", pk=ticket.pk)
    else:
        form = TicketForm(user=request.user)
    return render(request, "support/tickets/form.html", {"form": form})


def _own_ticket(request, pk: int) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("booking__resource"), pk=pk, user=request.user)


@login_required
def ticket_detail(request, pk: int):
    ticket = _own_ticket(request, pk)
    history = ticket.history.select_related("changed_by").all()
    can_close = Ticket.Status.CLOSED in services.ticket_allowed_statuses(ticket=ticket, actor=request.user)
    return render(
        request, "support/tickets/detail.html", {"ticket": ticket, "history": history, "can_close": can_close}
    )


@login_required
@require_POST
def ticket_close(request, pk: int):
    ticket = _own_ticket(request, pk)
    try:
        services.ticket_change_status(
            ticket=ticket, status=Ticket.Status.CLOSED, by=request.user, comment=request.POST.get("comment", "")
        )
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The ticket is closed."))
    return redirect("support:ticket_detail", pk=ticket.pk)
