"""Forms of the support pages and the ticket admin."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from portal.models import User


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    text = forms.CharField(label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 6}))
    booking: "forms.ModelChoiceField[Booking]" = forms.ModelChoiceField(
        label=_("Booking"),
        queryset=None,
        required=False,
        empty_label=_("No booking"),
        help_text=_("Choose a booking if the question is about one."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Booking]", self.fields["booking"]).queryset = Booking.objects.filter(
            user=user
        ).select_related("resource__organization__city")


class MessageForm(forms.Form):
    """A message in a ticket's conversation (the ticket page and the admin's reply form)."""

    text = forms.CharField(
        label=_("Message"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachment = forms.FileField(
        label=_("Image (optional)"),
        required=False,
        help_text=_("JPEG, PNG or WebP."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not (cleaned.get("text") or "").strip() and not cleaned.get("attachment") and not self.errors:
            self.add_error("text", _("Write a message or attach an image."))
        return cleaned


class AppealForm(forms.Form):
    """The appeal of a blocked person, sent without signing in."""

    email = forms.EmailField(
        label=_("The email of your account"),
        help_text=_("We answer to this address, or in the bot you linked to the account."),
    )
    text = forms.CharField(
        label=_("What should the support team know?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6})
    )
