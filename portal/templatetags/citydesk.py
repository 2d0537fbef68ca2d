"""Display helpers shared by all templates: money, dates in a city's zone, form widgets."""

from decimal import Decimal, InvalidOperation

from django import forms, template
from django.templatetags.tz import do_timezone

register = template.Library()


@register.filter
def rub(value) -> str:
    """Format money the Russian way: ``1 990 ₽`` (``1 990,50 ₽`` with kopecks)."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    sign = "−" if amount < 0 else ""
    amount = abs(amount)
    whole = int(amount)
    kopecks = int((amount - whole) * 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    text = f"{grouped},{kopecks:02d}" if kopecks else grouped
    return f"{sign}{text}\u00a0₽"


@register.filter
def in_zone(value, zone_name: str):
    """Convert an aware datetime to the named IANA zone (e.g. a city's).

    Built on Django's own ``timezone`` filter, which marks the result so a
    following ``|date`` or ``|time`` keeps that zone instead of converting the
    value back to the active one.
    """
    if not value:
        return value
    return do_timezone(value, zone_name)


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
