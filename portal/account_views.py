"""Accounts pages: profile, account linking, account deletion."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import errors, services
from portal.forms import AccountDeleteForm, ProfileForm
from portal.miniapp_start import start_param_url
from portal.throttling import throttle_upload


def _linked_accounts(user) -> list[str]:
    return sorted(user.socialaccount_set.values_list("provider", flat=True))


@login_required
def profile(request):
    user = request.user
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=user)
        if throttle_upload(request, form, "avatar_upload"):
            status = 429
        elif form.is_valid():
            upload = form.cleaned_data.get("avatar_upload")
            try:
                if upload:
                    services.user_avatar_set(user=user, file=upload)
                fields = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS}
                services.user_profile_update(user=user, **fields)
            except errors.DomainError as exc:
                form.add_error("avatar_upload" if exc.code.startswith("image_") else None, exc.message)
            else:
                messages.success(request, _("Your profile has been saved."))
                return redirect("portal:profile")
        user.refresh_from_db()
    else:
        form = ProfileForm(instance=user)
    return render(
        request,
        "portal/profile.html",
        {
            "form": form,
            "profile_user": user,
            "linked": _linked_accounts(user),
            "telegram_link": request.session.pop("telegram_link", None),
        },
        status=status,
    )


@login_required
@require_POST
def telegram_link(request):
    try:
        _token, deep_link, expires_at = services.telegram_link_create(user=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        request.session["telegram_link"] = {"url": deep_link, "expires_at": expires_at.isoformat()}
    return redirect("portal:profile")


@login_required
def account_delete(request):
    """Explain what deleting the account erases and keeps; delete it once the word is typed."""
    user = request.user
    can_delete = not (user.is_staff or user.is_superuser)
    form = AccountDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_delete(user=user)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            logout(request)
            messages.success(
                request,
                _("Your account has been deleted. You can sign up again with the same email at any time."),
            )
            return redirect("home")
    return render(request, "portal/account_delete.html", {"form": form, "can_delete": can_delete})


def miniapp_open(request):
    """``/miniapp/open/?start=<start parameter>``: go to the page a Mini App start parameter names.

    The Mini App script comes here after signing the visitor in (or failing
    to), so the mapping lives on the server and the script stays dumb. It
    only reads: a malformed or unknown parameter leads home.
    """
    return redirect(start_param_url(start_param=request.GET.get("start", ""), user=request.user))
