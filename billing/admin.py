"""Billing back office: balances and the ledger (read-only), staff grants, payments with
their callbacks, plans, subscriptions and the revenue dashboard."""

from decimal import Decimal

from allauth.account.decorators import reauthentication_required
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import selectors, services
from billing.exports import LedgerExport, PaymentExport
from billing.forms import GrantForm
from billing.models import Balance, LedgerEntry, Payment, PaymentCallback, Plan, RevenueReport, Subscription
from portal import errors
from portal.admin_dashboard import Figure, dashboard_register
from portal.exports import ExportAdminMixin
from portal.formatting import money_format
from portal.templatetags.citydesk import rub


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def grant_url(user_ids=()) -> str:
    url = reverse("admin:billing_ledgerentry_grant")
    if len(user_ids) == 1:
        url += f"?user={user_ids[0]}"
    return url


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "amount", "updated_at", "grant_link"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    ordering = ["-amount"]

    @admin.display(description=_("grant"))
    def grant_link(self, obj):
        return format_html('<a href="{}">{}</a>', grant_url([obj.user_id]), _("Grant balance"))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ExportAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    resource_classes = [LedgerExport]
    list_display = ["created_at", "user", "kind", "amount", "balance_after", "description", "created_by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__email", "reference", "description", "idempotency_key"]
    list_select_related = ["user", "created_by"]
    date_hierarchy = "created_at"
    change_list_template = "admin/billing/ledgerentry/change_list.html"

    def get_urls(self):
        return [
            path("grant/", self.admin_site.admin_view(self.grant_view), name="billing_ledgerentry_grant"),
            *super().get_urls(),
        ]

    # The form opens freely; submitting it asks for the password (or a 2FA code)
    # again unless entered in the last REAUTHENTICATION_TIMEOUT seconds, then
    # allauth carries out the kept submission.
    @method_decorator(reauthentication_required(allow_get=True))
    def grant_view(self, request):
        """Grant (or correct) a user's balance with a reason; recorded with the staff user."""
        if not request.user.is_staff or not request.user.has_perm("billing.view_ledgerentry"):
            raise errors.PermissionDenied  # pragma: no cover - admin_view already requires staff
        initial = {}
        if request.GET.get("user", "").isdigit():
            initial["user"] = int(request.GET["user"])
        form = GrantForm(request.POST or None, initial=initial)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                user = form.cleaned_data["user"]
                try:
                    entry = services.balance_grant(
                        user=user,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        created_by=request.user,
                    )
                except errors.DomainError as exc:
                    form.add_error("amount" if isinstance(exc, errors.Conflict) else None, exc.message)
                else:
                    self.message_user(
                        request,
                        _("%(user)s: %(amount)s recorded, balance %(balance)s.")
                        % {
                            "user": user,
                            "amount": money_format(entry.amount),
                            "balance": money_format(entry.balance_after),
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        f"{reverse('admin:billing_ledgerentry_changelist')}?user__id__exact={user.pk}"
                    )
            status = 400
        balance = None
        user_id = form.data.get("user") if form.is_bound else initial.get("user")
        if user_id and str(user_id).isdigit():
            user = get_user_model().objects.filter(pk=user_id).first()
            balance = selectors.balance_get(user=user) if user else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Grant balance"),
            "form": form,
            "balance": balance,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/grant.html", context, status=status)


class PaymentCallbackInline(admin.TabularInline):
    model = PaymentCallback
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "is_valid", "error", "remote_addr", "params"]
    fields = list(readonly_fields)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ExportAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    resource_classes = [PaymentExport]
    list_display = ["id", "user", "amount", "status", "created_at", "paid_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [PaymentCallbackInline]

    def has_change_permission(self, request, obj=None):
        # Viewing the change page shows the callbacks; nothing can be saved (all fields read-only).
        return False


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "payment", "is_valid", "error", "remote_addr"]
    list_filter = ["kind", "is_valid"]
    search_fields = ["=payment__id", "remote_addr"]
    list_select_related = ["payment"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "period_months", "period_days", "is_active", "position"]
    list_editable = ["is_active", "position"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["organization", "plan", "status", "auto_renew", "current_period_end", "created_at"]
    list_filter = ["status", "auto_renew", "plan"]
    search_fields = ["organization__name", "organization__owner__email"]
    list_select_related = ["organization", "plan"]
    raw_id_fields = ["organization", "created_by"]
    readonly_fields = [
        "organization",
        "plan",
        "status",
        "current_period_start",
        "current_period_end",
        "created_by",
        "created_at",
        "cancelled_at",
        "expired_at",
    ]

    def has_add_permission(self, request):
        return False  # bought by owners through the service (it charges and extends the listing)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RevenueReport)
class RevenueDashboardAdmin(admin.ModelAdmin):
    """The revenue dashboard: its change list is the dashboard page."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def changelist_view(self, request, extra_context=None):
        data = selectors.revenue_dashboard()
        chart = {
            "daily": {
                "labels": [d["date"].strftime("%d.%m") for d in data["daily"]],
                "topups": [d["topups"] for d in data["daily"]],
                "charges": [d["charges"] for d in data["daily"]],
                "grants": [d["grants"] for d in data["daily"]],
            },
            "monthly": {
                "labels": [m["month"].strftime("%m.%Y") for m in data["monthly"]],
                "topups": [m["topups"] for m in data["monthly"]],
                "charges": [m["charges"] for m in data["monthly"]],
                "grants": [m["grants"] for m in data["monthly"]],
            },
            "series": {
                "topups": str(_("Top-ups")),
                "charges": str(_("Subscription charges")),
                "grants": str(_("Grants")),
            },
        }
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revenue"),
            "opts": self.model._meta,
            "data": data,
            # json_script encodes it (DjangoJSONEncoder: amounts as strings) for static/billing/revenue_dashboard.js
            "chart": chart,
        }
        return render(request, "admin/billing/revenue_dashboard.html", context)


@admin.action(description=_("Grant balance to the selected user"))
def grant_balance(modeladmin, request, queryset):
    """An action of the users' admin (portal's), registered in BillingConfig.ready()."""
    ids = list(queryset.values_list("pk", flat=True)[:2])
    if len(ids) != 1:
        modeladmin.message_user(request, _("Select exactly one user to grant balance."), messages.WARNING)
        return None
    return HttpResponseRedirect(grant_url(ids))


def _today_figures(request) -> list[Figure]:
    """The admin's start page: today's top-ups and revenue (subscription charges), live from the ledger."""
    today = timezone.localdate()
    start, end = selectors.day_bounds(today)
    figures = selectors.revenue_figures(start=start, end=end).get(today, {})
    count = figures.get("topups_count", 0)
    day = f"created_at__day={today.day}&created_at__month={today.month}&created_at__year={today.year}"
    ledger = reverse("admin:billing_ledgerentry_changelist")
    return [
        Figure(
            key="topups_today",
            label=_("Top-ups today"),
            value=rub(figures.get("topups", Decimal(0))),
            url=f"{ledger}?kind__exact=topup&{day}",
            hint=ngettext("%(count)d payment", "%(count)d payments", count) % {"count": count},
        ),
        Figure(
            key="revenue_today",
            label=_("Revenue today"),
            value=rub(figures.get("charges", Decimal(0))),
            url=reverse("admin:billing_revenuereport_changelist"),
            hint=_("subscription charges; grants %(grants)s") % {"grants": rub(figures.get("grants", Decimal(0)))},
        ),
    ]


dashboard_register(key="billing", provider=_today_figures, order=20)
