"""Billing pages: balance and top-up, plans, subscriptions, Robokassa callbacks.

The local fake Robokassa page is development-only code: billing/dev_robokassa.py.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billing import selectors, services
from billing.forms import SubscribeForm, TopupForm
from billing.models import Payment
from catalog.models import Organization
from catalog.selectors import organizations_managed_by
from portal import errors
from portal.client_address import client_ip
from portal.throttling import throttle

logger = logging.getLogger(__name__)


def _managed_organizations(user):
    return organizations_managed_by(user=user).select_related("city", "owner").order_by("name")


def _with_links(payments):
    """Each payment with where to go on: a pending one can still be paid until it expires."""
    payments = list(payments)
    for payment in payments:
        payment.expires_at = services.payment_expires_at(payment)
        payment.pay_url = services.payment_url_for(payment) if payment.status == Payment.Status.PENDING else ""
    return payments


@login_required
def balance(request, form=None):
    page = Paginator(selectors.ledger_list(user=request.user), 20).get_page(request.GET.get("page"))
    context = {
        "balance": selectors.balance_get(user=request.user),
        "entries": page,
        "form": form or TopupForm(),
        "payments": _with_links(selectors.payment_list(user=request.user)[:5]),
    }
    return render(request, "billing/balance.html", context, status=400 if form is not None else 200)


@login_required
@require_POST
@throttle("topup")
def topup(request):
    form = TopupForm(request.POST)
    if not form.is_valid():
        return balance(request, form=form)
    try:
        payment = services.payment_create(user=request.user, amount=form.cleaned_data["amount"])
    except errors.DomainError as exc:
        form.add_error("amount", exc.message)
        return balance(request, form=form)
    return redirect(services.payment_url_for(payment))


def plans(request):
    return render(request, "billing/plans.html", {"plans": selectors.plans_active()})


@login_required
def subscribe(request, organization_pk: int):
    organization = get_object_or_404(_managed_organizations(request.user), pk=organization_pk)
    current = selectors.organization_subscription(organization=organization)
    form = SubscribeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                subscription = services.subscription_create(
                    user=request.user, organization_id=organization.pk, plan_id=form.cleaned_data["plan"].pk
                )
            except errors.DomainError as exc:
                form.add_error("plan" if isinstance(exc, errors.ValidationError) else None, exc.message)
            else:
                messages.success(request, _subscribed_message(subscription, organization))
                return redirect("billing:subscriptions")
        status = 400
    context = {
        "organization": organization,
        "current": current,
        "form": form,
        # The owner's balance pays (see subscription_create), also when staff buy for them.
        "balance": selectors.balance_get(user=organization.owner),
        "topup_form": TopupForm(),
    }
    return render(request, "billing/subscribe.html", context, status=status)


def _subscribed_message(subscription, organization) -> str:
    """What buying a subscription did: listed in the catalog only if the organization really shows there."""
    names = {"plan": subscription.plan.name, "org": organization.name}
    if Organization.objects.visible().filter(pk=organization.pk).exists():
        return _("Subscription «%(plan)s» is active: «%(org)s» is listed in the catalog.") % names
    names["until"] = date_format(timezone.localtime(subscription.current_period_end, organization.city.tzinfo), "j E Y")
    if organization.status == Organization.Status.DRAFT:
        return (
            _(
                "Subscription «%(plan)s» is paid until %(until)s. "
                "«%(org)s» is a draft: publish it to show it in the catalog."
            )
            % names
        )
    return (
        _("Subscription «%(plan)s» is paid until %(until)s. «%(org)s» is hidden, so it is not shown in the catalog.")
        % names
    )


@login_required
def subscriptions(request):
    page = Paginator(selectors.subscription_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/subscriptions.html",
        {
            "subscriptions": page,
            "organizations": selectors.organizations_without_subscription(user=request.user),
            "balance": selectors.balance_get(user=request.user),
        },
    )


@login_required
@require_POST
def subscription_cancel(request, pk: int):
    try:
        services.subscription_cancel(user=request.user, subscription_id=pk)
    except errors.NotFound:
        raise Http404
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Auto-renewal is off. The listing stays until the paid period ends."))
    return redirect("billing:subscriptions")


# --- Robokassa -------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
@throttle("payment_callback", methods=("GET", "POST"), page=False)
def robokassa_result(request):
    """ResultURL: Robokassa's server-to-server notice. Answers ``OK<InvId>`` or 400."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        payment = services.payment_result(params=params.dict(), remote_addr=client_ip(request))
    except errors.DomainError as exc:
        logger.warning("Rejected Robokassa result callback: %s", exc.message)
        return HttpResponseBadRequest(f"bad request: {exc.message}", content_type="text/plain; charset=utf-8")
    return HttpResponse(f"OK{payment.pk}", content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def robokassa_success(request):
    """SuccessURL: the user is back from Robokassa. Checks the Password1 signature; never credits."""
    params = (request.POST if request.method == "POST" else request.GET).dict()
    try:
        payment = services.payment_success_check(params=params, remote_addr=client_ip(request))
    except errors.DomainError:
        return render(request, "billing/robokassa_success.html", {"invalid": True}, status=400)
    mine = payment is not None and request.user.is_authenticated and payment.user_id == request.user.pk
    return render(request, "billing/robokassa_success.html", {"payment": payment if mine else None})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def robokassa_fail(request):
    """FailURL: the user cancelled or the payment did not go through. Shows a page, changes nothing.

    FailURL is unsigned and any page can send a browser to it, so it must not
    touch a payment: an unpaid top-up stays pending (ResultURL may still credit
    it) until it expires. POST is accepted because Robokassa can be set to use it.
    The user's own payment named by ``InvId`` gets a "pay again" button with its amount.
    """
    try:
        params = (request.POST if request.method == "POST" else request.GET).dict()
    except (MultiPartParserError, SuspiciousOperation):  # anyone can post here: a broken body is no payment
        params = {}
    payment = None
    inv_id = services.inv_id_of(params)
    if request.user.is_authenticated and inv_id is not None:
        payment = selectors.payment_list(user=request.user).filter(pk=inv_id).first()
    return render(request, "billing/robokassa_fail.html", {"payment": payment})


def payment_status(request, pk: int):
    """Small JSON-free status fragment for the success page (polls until the credit lands)."""
    if not request.user.is_authenticated:
        raise Http404
    payment = get_object_or_404(Payment, pk=pk, user_id=request.user.pk)
    return render(request, "billing/_payment_status.html", {"payment": payment})
