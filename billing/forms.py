"""Billing forms: the top-up amount, choosing a plan, a staff grant."""

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from billing.models import Plan
from billing.selectors import plans_active
from billing.services import topup_limits
from portal.templatetags.citydesk import rub


class TopupForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount, ₽"), max_digits=12, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = topup_limits()
        field = self.fields["amount"]
        field.validators += [MinValueValidator(low), MaxValueValidator(high)]
        field.widget.attrs.update({"min": f"{low:.2f}", "max": f"{high:.2f}", "step": "0.01", "inputmode": "decimal"})
        field.help_text = _("From %(min)s to %(max)s ₽.") % {"min": f"{low:.0f}", "max": f"{high:.0f}"}


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Plan) -> str:
        return f"{obj.name} — {rub(obj.price)}"


class SubscribeForm(forms.Form):
    plan = PlanChoiceField(label=_("Plan"), queryset=Plan.objects.none(), widget=forms.RadioSelect, empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(PlanChoiceField, self.fields["plan"]).queryset = plans_active()


class GrantForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User"), queryset=get_user_model().objects.order_by("email"))
    amount = forms.DecimalField(
        label=_("Amount, ₽"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Positive to add money, negative to correct (the balance never goes below zero)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
