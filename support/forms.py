"""Forms of the support pages and the ticket admin."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from portal.models import User


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    text = forms.CharField(label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 6}))
    booking = forms.ModelChoiceField(
        label=_("Booking"),
        queryset=None,
        required=False,
        empty_label=_("No booking"),
        help_text=_("Choose a booking if the question is about one."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["booking"].queryset = Booking.objects.filter(user=user).select_related("resource")
