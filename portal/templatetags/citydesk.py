"""Display helpers shared by all templates: money, phones, dates in a city's zone, form widgets.

The rules themselves live in ``portal.formatting`` and ``portal.phones``, so
Python code (notifications, the admin, the bots) writes the same as the pages.
"""

from django import forms, template

from portal.formatting import TIME_FORMAT, datetime_format, money_format
from portal.phones import phone_format

register = template.Library()


@register.filter
def rub(value) -> str:
    """Money the Russian way: ``1 990 ₽`` (``portal.formatting.money_format``)."""
    return money_format(value)


@register.filter
def phone(value) -> str:
    """A stored phone number written for people: ``+7 999 123-45-67`` (``portal.phones.phone_format``)."""
    return phone_format(value)


@register.filter
def local_datetime(value, zone=None) -> str:
    """``5 марта 2026, 14:30`` in ``zone`` (an IANA name: the organization's city), in the active language."""
    return datetime_format(value, zone=zone)


@register.filter
def local_time(value, zone=None) -> str:
    """``14:30`` for a moment in ``zone`` (an IANA name: the organization's city)."""
    return datetime_format(value, zone=zone, fmt=TIME_FORMAT)


@register.filter
def add_class(bound_field, css: str):
    """Render a form field's widget with extra CSS classes."""
    classes = bound_field.field.widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{classes} {css}".strip()})


@register.filter
def bs_widget(bound_field):
    """Render a field's widget with the Bootstrap class that fits it, marked invalid on errors."""
    widget = bound_field.field.widget
    if isinstance(widget, (forms.Select, forms.SelectMultiple)) and not isinstance(
        widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)
    ):
        css = "form-select"
    elif isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        css = ""
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    attrs = {"class": f"{widget.attrs.get('class', '')} {css}".strip()}
    if bound_field.errors:
        attrs["aria-describedby"] = f"{bound_field.id_for_label}-errors"
    return bound_field.as_widget(attrs=attrs)
