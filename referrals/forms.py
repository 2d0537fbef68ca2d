import logging
from typing import cast

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.errors import DomainError
from referrals.middleware import pending_code
from referrals.services import referral_apply

logger = logging.getLogger(__name__)


class ReferralSignupForm(forms.Form):
    """Extra fields allauth adds to the site's signup form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    referral_code = forms.CharField(
        label=gettext_lazy("Referral code"),
        required=False,
        max_length=32,
        help_text=gettext_lazy("Optional: the code of the friend who invited you."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = pending_code()
        if code and not self.fields["referral_code"].initial:
            self.fields["referral_code"].initial = code

    def clean_referral_code(self) -> str:
        """A code anyone could join with now, or a field error; blank means no code.

        Checked before the account exists and without looking at the email, and
        signup() says nothing more: allauth answers a signup with a registered
        email exactly like a new one (it emails the owner instead), so nothing
        here may tell the two apart either.
        """
        from referrals.middleware import forget_pending_code
        from referrals.services import referral_code_check

        forget_pending_code()
        code = (self.cleaned_data.get("referral_code") or "").strip()
        if not code:
            return ""
        try:
            return referral_code_check(code=code)
        except DomainError as exc:
            raise forms.ValidationError(
                _("%(reason)s Correct the code or clear the field to sign up without it.") % {"reason": exc.message},
                code=exc.code,
            )

    def signup(self, request, user) -> None:
        """Called by allauth once the new user is saved: apply the referral code, if any."""
        code = self.cleaned_data.get("referral_code", "")
        if not code:
            return
        try:
            referral_apply(user=user, code=code, source="site")
        except DomainError as exc:  # the code changed since the form was checked
            logger.info("Referral code %s not applied at signup: %s", code, exc.code)


class ReferralCodeCreateForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Valid for, days"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = settings.REFERRAL_CODE_MIN_DAYS, settings.REFERRAL_CODE_MAX_DAYS
        field = cast(forms.IntegerField, self.fields["days"])
        field.min_value, field.max_value = low, high
        field.validators += [MinValueValidator(low), MaxValueValidator(high)]
        field.widget.attrs.update({"min": low, "max": high})
        field.initial = settings.REFERRAL_CODE_DEFAULT_DAYS
        field.help_text = _("From %(min)s to %(max)s days.") % {"min": low, "max": high}
