"""Query strings validated by a serializer, as strictly as the schema describes them."""

import re

from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers

INTEGER = re.compile(r"-?[0-9]+")


def query_validate(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The validated query parameters of ``request`` (400 with DRF's field map otherwise).

    Each parameter is given once (a repeated one is a 400, not its last value),
    and an empty value is a value: ``?page=`` is not a page number, while a
    field with ``allow_blank`` accepts it.
    """
    params = request.query_params
    fields = serializer_class().fields
    errors = {}
    for name, field in fields.items():
        values = params.getlist(name)
        if len(values) > 1:
            errors[name] = [_("Give this parameter once.")]
        elif values == [""] and not getattr(field, "allow_blank", False):
            errors[name] = [_("Enter a value.")]
        elif values and isinstance(field, serializers.IntegerField) and not INTEGER.fullmatch(values[0]):
            # DRF's IntegerField also reads " 7", "7.0" and non-ASCII digits.
            errors[name] = [_("A valid integer is required.")]
    if errors:
        raise serializers.ValidationError(errors)
    data = QueryDict(mutable=True)
    for name in fields.keys():  # noqa: SIM118 - the DRF stubs iterate a BindingDict as fields
        if name in params:
            data[name] = params[name]
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
