"""Forms of the accounts pages."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.images import image_max_size_text
from portal.models import User
from portal.phones import PhoneFormField
from portal.services import PROFILE_FIELDS


class ProfileForm(forms.ModelForm):
    avatar_upload = forms.FileField(
        label=_("New avatar"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    class Meta:
        model = User
        fields = list(PROFILE_FIELDS)
        field_classes = {"phone": PhoneFormField}
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+7 999 123-45-67"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        cast(forms.ModelChoiceField, self.fields["city"]).empty_label = _("Not chosen")
        self.fields["avatar_upload"].help_text = _("JPEG, PNG or WebP, up to %(size)s MB.") % {
            "size": image_max_size_text()
        }


def account_delete_word() -> str:
    """The word a person types to confirm deleting their account (in the page's language)."""
    return _("DELETE").strip()


class AccountDeleteForm(forms.Form):
    """Confirms an account deletion by a typed word: it works for everyone, with or without a password."""

    confirmation = forms.CharField(label=_("Confirmation"), max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        word = account_delete_word()
        self.fields["confirmation"].label = _("Type %(word)s to confirm") % {"word": word}
        self.fields["confirmation"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirmation(self):
        typed = self.cleaned_data["confirmation"].strip()
        word = account_delete_word()
        if typed.casefold() != str(word).casefold():
            raise forms.ValidationError(
                _("Type %(word)s exactly to delete the account.") % {"word": word}, code="confirmation_mismatch"
            )
        return typed
