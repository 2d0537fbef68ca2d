"""The "my referrals" page: codes, the share block and who joined."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.errors import DomainError
from referrals import selectors, services
from referrals.forms import ReferralCodeCreateForm


def share_links(code: str) -> dict:
    """The signup link and the Telegram deep link for a code."""
    return {
        "signup_link": f"{settings.SITE_URL}{reverse('account_signup')}?ref={code}",
        "telegram_link": f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=ref_{code}",
    }


@login_required
def mine(request, form=None):
    codes = list(selectors.referral_code_list_for_user(user=request.user))
    active = next((code for code in codes if code.is_usable), None)
    paginator = Paginator(selectors.referral_list_for_user(user=request.user), 20)
    page = paginator.get_page(request.GET.get("page"))
    for referral in page.object_list:
        referral.referred_name = services.referred_display_name(referral.referred)
    context = {
        "codes": codes,
        "active_code": active,
        "share": share_links(active.code) if active else None,
        "form": form or ReferralCodeCreateForm(),
        "referrals": page,
        "totals": selectors.referral_totals_for_user(user=request.user),
    }
    return render(request, "referrals/mine.html", context, status=400 if form is not None else 200)


@login_required
@require_POST
def code_create(request):
    form = ReferralCodeCreateForm(request.POST)
    if not form.is_valid():
        return mine(request, form=form)
    try:
        code = services.referral_code_create(user=request.user, days=form.cleaned_data["days"])
    except DomainError as exc:
        form.add_error("days", exc.message)
        return mine(request, form=form)
    messages.success(request, _("New code %(code)s is active.") % {"code": code.code})
    return redirect("referrals:mine")


def _code_action(request, pk, action, success):
    try:
        code = action(user=request.user, code_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success % {"code": code.code})
    return redirect("referrals:mine")


@login_required
@require_POST
def code_activate(request, pk: int):
    return _code_action(request, pk, services.referral_code_activate, _("Code %(code)s is now active."))


@login_required
@require_POST
def code_deactivate(request, pk: int):
    return _code_action(request, pk, services.referral_code_deactivate, _("Code %(code)s is switched off."))


@login_required
@require_POST
def code_delete(request, pk: int):
    return _code_action(request, pk, services.referral_code_delete, _("Code %(code)s deleted."))
