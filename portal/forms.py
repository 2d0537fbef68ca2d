"""Forms of the accounts pages."""

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
        self.fields["city"].empty_label = _("Not chosen")
        self.fields["avatar_upload"].help_text = _("JPEG, PNG or WebP, up to %(size)s MB.") % {
            "size": image_max_size_text()
        }
