from django import forms
from django.template.loader import render_to_string


class _Form(forms.Form):
    name = forms.CharField(label="Name")
    agree = forms.BooleanField(label="Agree", required=False)
    tags = forms.MultipleChoiceField(
        label="Tags", choices=[("a", "Alpha"), ("b", "Beta")], widget=forms.CheckboxSelectMultiple, required=False
    )


def test_checkbox_group_renders_every_choice_and_errors_sit_next_to_fields():
    form = _Form(data={"tags": ["b"]})
    form.is_valid()

    html = render_to_string("includes/form_fields.html", {"form": form})

    assert html.count('type="checkbox" name="tags"') == 2
    assert 'value="b" id="id_tags_1" checked' in html
    assert 'id="id_name-errors"' in html and "is-invalid" in html
    assert html.count('name="agree"') == 1
