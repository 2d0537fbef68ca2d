"""Phone numbers: the one rule for every app (profile, organizations, forms, API, CSV import).

A number is parsed with Google's libphonenumber (the ``phonenumbers`` package),
Russian by default: ``8 999 123-45-67``, ``+7 (495) 123-45-67`` and
``9991234567`` are all Russian numbers; a number of another country needs its
``+<country code>``. It is stored in E.164 (``+79991234567``) and shown to
people in the international format (``+7 999 123-45-67``) by ``phone_format``
(the ``phone`` template filter).
"""

import phonenumbers
from django import forms
from django.utils.translation import gettext as _
from rest_framework import serializers

from portal.errors import ValidationError

DEFAULT_REGION = "RU"
# The longest input worth parsing (E.164 has at most 15 digits; room for spaces, brackets, dashes).
MAX_INPUT_LENGTH = 40


def _parse(value: str) -> phonenumbers.PhoneNumber | None:
    if len(value) > MAX_INPUT_LENGTH:
        return None
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def phone_normalize(value: str) -> str:
    """Return ``value`` in E.164 (``+79991234567``), or "" for an empty value.

    Raises ``portal.errors.ValidationError`` (code ``phone_invalid``) for
    anything that is not a valid number.
    """
    value = (value or "").strip()
    if not value:
        return ""
    number = _parse(value)
    if number is None:
        raise ValidationError(_("Enter a phone number like +7 999 123-45-67."), code="phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_format(value: str) -> str:
    """A stored number written for people (``+7 999 123-45-67``); anything unparsable as it is."""
    value = (value or "").strip()
    if not value:
        return ""
    number = _parse(value)
    if number is None:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _normalize_or(error_class, value: str) -> str:
    """``phone_normalize(value)``, its refusal raised as ``error_class`` (a form's or DRF's ValidationError)."""
    try:
        return phone_normalize(value)
    except ValidationError as exc:
        raise error_class(exc.message, code=exc.code) from exc


class PhoneFormField(forms.CharField):
    """A form field that cleans to E.164 (or "") through ``phone_normalize``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_INPUT_LENGTH)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value):
        return _normalize_or(forms.ValidationError, super().clean(value))


class PhoneSerializerField(serializers.CharField):
    """A DRF field that accepts a phone number as people write it and returns E.164 (or "")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_INPUT_LENGTH)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return _normalize_or(serializers.ValidationError, super().to_internal_value(data))
