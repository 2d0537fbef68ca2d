"""Forms of the booking pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.models import OpeningHours, Resource


class SlotSearchForm(forms.Form):
    """What to book and on which day (a GET form)."""

    resource = forms.ModelChoiceField(label=_("Resource"), queryset=Resource.objects.none(), empty_label=None)
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=None, required=False, empty_label=_("No service (1 hour)")
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = organization.resources.filter(is_active=True).order_by("name")
        self.fields["service"].queryset = organization.services.filter(is_active=True).order_by("name")


class BookSlotForm(forms.Form):
    resource = forms.ModelChoiceField(queryset=Resource.objects.filter(is_active=True))
    service = forms.IntegerField(required=False)
    starts_at = forms.DateTimeField()
    move = forms.IntegerField(required=False)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Participant's email"))


class CheckInForm(forms.Form):
    token = forms.CharField(
        label=_("Check-in code"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("Scan the client's QR code with the phone camera, or paste the code or link here."),
    )


class ResourceForm(forms.ModelForm):
    amenities_text = forms.CharField(
        label=_("Amenities"), required=False, help_text=_("Comma-separated, e.g. projector, whiteboard.")
    )

    class Meta:
        model = Resource
        fields = ["name", "kind", "description", "capacity", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.fields["amenities_text"].initial = ", ".join(self.instance.amenities or [])

    def amenities(self) -> list[str]:
        return [a.strip() for a in self.cleaned_data.get("amenities_text", "").split(",") if a.strip()]


class OpeningHoursForm(forms.ModelForm):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


OpeningHoursFormSet = forms.modelformset_factory(OpeningHours, form=OpeningHoursForm, extra=3, can_delete=True)


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Your review"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What did you like, what could be better?"),
    )
