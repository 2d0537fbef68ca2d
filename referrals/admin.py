from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from referrals import services
from referrals.models import Referral, ReferralCode


class UsableFilter(admin.SimpleListFilter):
    title = _("usable")
    parameter_name = "usable"

    def lookups(self, request, model_admin):
        return [("yes", _("Usable (active, not expired)")), ("expired", _("Expired")), ("no", _("Not usable"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.usable()
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "no":
            return queryset.exclude(is_active=True, expires_at__gt=now)
        return queryset


@admin.register(ReferralCode)
class ReferralCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "user", "is_active", "expires_at", "created_at", "referrals_count"]
    list_filter = ["is_active", UsableFilter, "created_at"]
    search_fields = ["code", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    actions = ["deactivate_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_referrals_count=Count("referrals"))

    @admin.display(description=_("referrals"), ordering="_referrals_count")
    def referrals_count(self, obj) -> int:
        return obj._referrals_count

    # Codes are written by the services only (unique, one active per user, the
    # lookup cache): the admin views them, deactivates and deletes through them.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Deactivate selected codes"))
    def deactivate_selected(self, request, queryset):
        codes = list(queryset.select_related("user").order_by("pk"))
        for code in codes:
            services.referral_code_deactivate(user=code.user, code_id=code.pk)
        count = len(codes)
        self.message_user(
            request, ngettext("%d code deactivated.", "%d codes deactivated.", count) % count, messages.SUCCESS
        )

    def delete_model(self, request, obj) -> None:
        services.referral_code_delete(user=obj.user, code_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for code in queryset.select_related("user").order_by("pk"):
            services.referral_code_delete(user=code.user, code_id=code.pk)


class BonusPaidFilter(admin.SimpleListFilter):
    title = _("bonus paid")
    parameter_name = "bonus_paid"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(bonus_paid_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(bonus_paid_at__isnull=True)
        return queryset


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = [
        "referred",
        "referrer",
        "referrer_total",
        "code_text",
        "source",
        "created_at",
        "bonus_paid_at",
        "bonus_amount",
    ]
    list_filter = ["source", BonusPaidFilter, "created_at"]
    search_fields = ["code_text", "referrer__email", "referred__email", "referrer__last_name", "referred__last_name"]
    list_select_related = ["referrer", "referred"]
    readonly_fields = [f.name for f in Referral._meta.fields]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # Counts per referrer: how many people each referrer brought, shown on every row.
        per_referrer = Referral.objects.filter(referrer=OuterRef("referrer")).values("referrer")
        return (
            super()
            .get_queryset(request)
            .annotate(
                _referrer_total=per_referrer.annotate(c=Count("pk")).values("c")[:1],
                _referrer_bonuses=per_referrer.annotate(c=Count("pk", filter=Q(bonus_paid_at__isnull=False))).values(
                    "c"
                )[:1],
            )
        )

    @admin.display(description=_("referrer's total"), ordering="_referrer_total")
    def referrer_total(self, obj) -> str:
        return f"{obj._referrer_total} ({obj._referrer_bonuses})"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
