"""Forms of the booking pages."""

from datetime import time
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.models import OpeningHours, Resource
from bookings.services import COMMENT_MAX_LENGTH


class ConfirmForm(forms.Form):
    """The last step before booking: a note for the owner and a phone to reach the client."""

    comment = forms.CharField(
        label=_("Comment for the organization"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: what the master or the administrator should know."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("Optional: so the organization can reach you if something changes."),
    )


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
        fields = ["name", "kind", "services", "description", "capacity", "is_active"]
        widgets = {"services": forms.CheckboxSelectMultiple, "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "services": _(
                "Tick what this specialist or place offers. None ticked: every service "
                "(seats and rooms without services are booked by the hour)."
            )
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        services = cast(forms.ModelMultipleChoiceField, self.fields["services"])
        services.queryset = organization.services.filter(is_active=True).order_by("name")
        if not services.queryset.exists():
            del self.fields["services"]
        if self.instance and self.instance.pk:
            self.fields["amenities_text"].initial = ", ".join(self.instance.amenities or [])

    def amenities(self) -> list[str]:
        return [a.strip() for a in self.cleaned_data.get("amenities_text", "").split(",") if a.strip()]

    def service_fields(self) -> dict:
        """The cleaned fields the resource services take."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "amenities_text"}
        data["amenities"] = self.amenities()
        if "services" in data:
            data["services"] = list(data["services"])
        return data


MIDNIGHT = time(0)


class DayHoursForm(forms.Form):
    """One weekday of the week editor: open or not, from–to, an optional break."""

    is_open = forms.BooleanField(label=_("Open"), required=False)
    opens_at = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    closes_at = forms.TimeField(
        label=_("To"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    break_from = forms.TimeField(
        label=_("Break from"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    break_to = forms.TimeField(
        label=_("Break to"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args, weekday: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.weekday = weekday
        self.weekday_label = OpeningHours.Weekday(weekday).label

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("is_open"):
            return data
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens is None:
            self.add_error("opens_at", _("When does it open?"))
        if closes is None:
            self.add_error("closes_at", _("When does it close?"))
        if opens is None or closes is None:
            return data
        if not (closes > opens or closes == MIDNIGHT):
            self.add_error("closes_at", _("Closing time must be after opening time (00:00 means midnight)."))
            return data
        start, end = data.get("break_from"), data.get("break_to")
        if (start is None) != (end is None):
            self.add_error("break_to" if end is None else "break_from", _("Give both ends of the break, or neither."))
        elif start is not None:
            inside_close = closes == MIDNIGHT or end < closes
            if not (opens < start < end and inside_close):
                self.add_error("break_from", _("The break must lie inside the opening hours."))
        return data

    def intervals(self) -> list[tuple[int, time, time]]:
        data = self.cleaned_data
        if not data.get("is_open"):
            return []
        opens, closes = data["opens_at"], data["closes_at"]
        if data.get("break_from") and data.get("break_to"):
            return [(self.weekday, opens, data["break_from"]), (self.weekday, data["break_to"], closes)]
        return [(self.weekday, opens, closes)]


class WeekHoursForm:
    """Seven DayHoursForms (Monday first), each shown once; prefixes ``d0``…``d6``."""

    def __init__(self, data=None, *, rows=()):
        initial: dict[int, dict] = {}
        self.several_breaks: list[str] = []
        by_day: dict[int, list[OpeningHours]] = {}
        for row in rows:
            by_day.setdefault(row.weekday, []).append(row)
        for weekday, day_rows in by_day.items():
            day_rows.sort(key=lambda r: r.opens_at)
            values = {"is_open": True, "opens_at": day_rows[0].opens_at, "closes_at": day_rows[-1].closes_at}
            if len(day_rows) >= 2:
                values.update(break_from=day_rows[0].closes_at, break_to=day_rows[1].opens_at)
            if len(day_rows) > 2:
                self.several_breaks.append(str(OpeningHours.Weekday(weekday).label))
            initial[weekday] = values
        self.days = [
            DayHoursForm(data, prefix=f"d{weekday}", weekday=weekday, initial=initial.get(weekday, {}))
            for weekday in range(7)
        ]

    def __iter__(self):
        return iter(self.days)

    def is_valid(self) -> bool:
        results = [day.is_valid() for day in self.days]  # every day validated, so each shows its errors
        return all(results)

    def intervals(self) -> list[tuple[int, time, time]]:
        return [interval for day in self.days for interval in day.intervals()]


def copy_to_weekdays(data, *, source: int = 0) -> dict:
    """The posted week with ``source``'s row (Monday by default) copied onto the other weekdays (Mon–Fri)."""
    copied = data.copy()
    fields = ["is_open", "opens_at", "closes_at", "break_from", "break_to"]
    for weekday in range(5):
        if weekday == source:
            continue
        for name in fields:
            value = data.get(f"d{source}-{name}")
            key = f"d{weekday}-{name}"
            if value is None:
                copied.pop(key, None)
            else:
                copied[key] = value
    return copied


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
