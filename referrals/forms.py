from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.errors import DomainError
from referrals.middleware import SESSION_KEY, pending_code
from referrals.services import referral_apply


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
        # Never refuse the signup over the code: a bad code is reported after
        # the account exists (see signup()).
        return (self.cleaned_data.get("referral_code") or "").strip()

    def signup(self, request, user) -> None:
        """Called by allauth once the new user is saved: apply the referral code, if any."""
        code = self.cleaned_data.get("referral_code", "")
        if hasattr(request, "session"):
            request.session.pop(SESSION_KEY, None)
        if not code:
            return
        try:
            referral_apply(user=user, code=code, source="site")
        except DomainError as exc:
            messages.warning(
                request,
                _("Your account was created, but the referral code was not applied: %(reason)s")
                % {"reason": exc.message},
            )
            return
        messages.success(request, _("Referral code %(code)s applied.") % {"code": code.upper()})


class ReferralCodeCreateForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Valid for, days"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = settings.REFERRAL_CODE_MIN_DAYS, settings.REFERRAL_CODE_MAX_DAYS
        field = self.fields["days"]
        field.min_value, field.max_value = low, high
        field.validators += [MinValueValidator(low), MaxValueValidator(high)]
        field.widget.attrs.update({"min": low, "max": high})
        field.initial = settings.REFERRAL_CODE_DEFAULT_DAYS
        field.help_text = _("From %(min)s to %(max)s days.") % {"min": low, "max": high}
