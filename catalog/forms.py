from typing import cast

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _

from catalog import extensions, selectors
from catalog.models import Category, City
from catalog.validators import normalize_website
from portal.errors import ValidationError as DomainValidationError
from portal.phones import PhoneFormField


class CatalogFilterForm(forms.Form):
    """The catalog list's GET filters; invalid values are simply ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    city = forms.ChoiceField(label=_("City"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    ordering = forms.ChoiceField(label=_("Sort by"), required=False)
    free_today = forms.BooleanField(label=_("Free time today"), required=False)

    def __init__(self, *args, cities=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["city"]).choices = [
            ("", _("All cities")),
            *((c.slug, c.name) for c in cities),
        ]
        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("All categories")),
            *((c.slug, f"— {c.name}" if c.parent_id else c.name) for c in categories),
        ]
        cast(forms.ChoiceField, self.fields["ordering"]).choices = [
            (k, label) for k, (label, _order) in selectors.ORDERINGS.items()
        ]
        if not extensions.free_today_available():
            del self.fields["free_today"]

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        valid = {}
        for name in ("q", "city", "category", "ordering"):
            field = self.fields[name]
            raw = self.data.get(name, "")
            try:
                valid[name] = field.clean(raw) or None
            except DjangoValidationError:
                valid[name] = None
        if "free_today" in self.fields:
            valid["free_today"] = self.data.get("free_today") in ("1", "on", "true", "True")
        return valid


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    city = forms.ModelChoiceField(label=_("City"), queryset=City.objects.order_by("name"), empty_label=None)
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"),
        queryset=Category.objects.order_by("position", "name"),
        # A multiple select (the shared form renderer draws checkbox groups as one checkbox).
        widget=forms.SelectMultiple(attrs={"size": 8}),
        required=False,
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=5000
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = PhoneFormField(label=_("Phone"), required=False)
    website = forms.CharField(
        label=_("Website"), max_length=200, required=False, widget=forms.TextInput(attrs={"inputmode": "url"})
    )
    logo = forms.ImageField(label=_("Logo"), required=False)

    def clean_name(self):
        value = self.cleaned_data["name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter the name."))
        return value

    def clean_website(self):
        try:
            return normalize_website(self.cleaned_data["website"])
        except DomainValidationError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class PhotoForm(forms.Form):
    image = forms.ImageField(
        label=_("Photo"),
        help_text=_("JPEG, PNG or WebP."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    price = forms.DecimalField(label=_("Price, ₽"), min_value=0, max_digits=10, decimal_places=2)
    duration_minutes = forms.IntegerField(label=_("Duration, minutes"), min_value=1, max_value=24 * 60, initial=60)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ImportForm(forms.Form):
    """The admin's CSV import form."""

    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma-separated, with a header row."))
    dry_run = forms.BooleanField(label=_("Dry run (check only, change nothing)"), required=False, initial=True)
    all_or_nothing = forms.BooleanField(label=_("All or nothing (import nothing if any row is bad)"), required=False)
