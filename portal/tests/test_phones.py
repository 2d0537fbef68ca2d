"""The one phone rule (portal.phones): every app parses, stores and shows numbers the same way."""

import pytest
from django import forms

from portal import errors
from portal.phones import PhoneFormField, PhoneSerializerField, phone_format, phone_normalize


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("8 (999) 123-45-67", "+79991234567"),  # a leading 8 is Russia's trunk prefix
        ("+7 999 123-45-67", "+79991234567"),
        ("79991234567", "+79991234567"),
        ("9991234567", "+79991234567"),  # Russian by default
        ("8 (495) 123-45-67", "+74951234567"),  # a landline (catalog organizations)
        ("+44 20 7946 0958", "+442079460958"),  # other countries need their code
        ("+1 212 555 0100", "+12125550100"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_numbers_are_stored_in_e164(written, stored):
    assert phone_normalize(written) == stored


@pytest.mark.parametrize("written", ["12345", "+7 999 123", "phone", "12-34", "+999 123", "8" * 60])
def test_invalid_numbers_are_refused(written):
    with pytest.raises(errors.ValidationError) as caught:
        phone_normalize(written)
    assert caught.value.code == "phone_invalid"


def test_numbers_are_shown_in_one_format():
    assert phone_format("+79991234567") == "+7 999 123-45-67"
    assert phone_format("+74951234567") == "+7 495 123-45-67"
    assert phone_format("+442079460958") == "+44 20 7946 0958"
    assert phone_format("") == ""
    assert phone_format("not a number") == "not a number"  # legacy data is shown as it is


def test_form_and_serializer_fields_use_the_rule():
    assert PhoneFormField(required=False).clean("8 999 123 45 67") == "+79991234567"
    with pytest.raises(forms.ValidationError):
        PhoneFormField(required=False).clean("12-34")
    assert PhoneSerializerField().run_validation("+44 20 7946 0958") == "+442079460958"


def test_phone_template_filter_shows_the_display_format():
    from django.template import Context, Template

    html = Template("{% load citydesk %}{{ p|phone }}").render(Context({"p": "+79991234567"}))
    assert html == "+7 999 123-45-67"
