"""Support pages: my tickets, a new ticket, one ticket with its conversation and history, replying,
closing it; the appeal form of a blocked person (no login)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import errors
from portal.throttling import throttle, throttle_upload
from support import services
from support.forms import AppealForm, MessageForm, TicketForm
from support.models import Ticket, TicketMessage

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
    return get_object_or_404(
        Ticket.objects.select_related("booking__resource__organization__city"), pk=pk, user=request.user
    )


def _detail(request, ticket: Ticket, *, form: MessageForm | None = None, status: int = 200):
    history = ticket.history.select_related("changed_by").all()
    can_close = Ticket.Status.CLOSED in services.ticket_allowed_statuses(ticket=ticket, actor=request.user)
    context = {
        "ticket": ticket,
        "history": history,
        "conversation": services.ticket_message_list(ticket=ticket),
        "can_close": can_close,
        "form": form or MessageForm(),
    }
    return render(request, "support/tickets/detail.html", context, status=status)


@login_required
def ticket_detail(request, pk: int):
    return _detail(request, _own_ticket(request, pk))


@login_required
@require_POST
@throttle("ticket_message")
def ticket_reply(request, pk: int):
    """Post a message (and optionally an image) to one's own ticket."""
    ticket = _own_ticket(request, pk)
    form = MessageForm(request.POST, request.FILES)
    if throttle_upload(request, form, "attachment"):
        return _detail(request, ticket, form=form, status=429)
    if form.is_valid():
        try:
            services.ticket_message_add(
                ticket=ticket,
                author=request.user,
                text=form.cleaned_data["text"],
                attachment=form.cleaned_data.get("attachment"),
            )
        except errors.DomainError as exc:
            form.add_error("attachment" if exc.code.startswith("image_") else None, exc.message)
        else:
            messages.success(request, _("Your message has been sent."))
            return redirect("support:ticket_detail", pk=ticket.pk)
    return _detail(request, ticket, form=form, status=400)


@login_required
def message_attachment(request, pk: int, message_pk: int):
    """The image of a message, for the ticket's own user (staff open it from the admin)."""
    ticket = _own_ticket(request, pk)
    return attachment_response(get_object_or_404(TicketMessage, pk=message_pk, ticket=ticket))


def attachment_response(message: TicketMessage) -> FileResponse:
    """Serve a message's image privately (never cached by shared caches)."""
    if not message.attachment:
        raise Http404
    response = FileResponse(message.attachment.open("rb"), content_type=_content_type(message.attachment.name or ""))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_type(name: str) -> str:
    return "image/png" if name.lower().endswith(".png") else "image/jpeg"


@throttle("appeal")
def appeal(request):
    """A blocked person writes to support without signing in.

    The answer is the same whatever the address (registered, blocked, unknown):
    the page never tells a stranger whether an email has an account.
    """
    if request.method == "POST":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.appeal_create(email=form.cleaned_data["email"], text=form.cleaned_data["text"])
            except errors.DomainError as exc:
                form.add_error("email" if exc.code == "email_invalid" else "text", exc.message)
            else:
                return render(request, "support/appeal_sent.html")
    else:
        form = AppealForm()
    return render(request, "support/appeal.html", {"form": form}, status=400 if form.errors else 200)


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
