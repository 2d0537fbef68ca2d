from django import forms


class ReferralSignupForm(forms.Form):
    """Extra fields allauth adds to the site's signup form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    def signup(self, request, user) -> None:
        """Called by allauth once the new user is saved."""
