"""Query strings validated by a serializer, as strictly as the schema describes them."""

import re
from dataclasses import dataclass
from functools import cache

from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import empty

INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class _Field:
    name: str
    allow_blank: bool
    integer: bool


@dataclass(frozen=True)
class _Shape:
    fields: tuple[_Field, ...]
    # What an empty query validates to, when that cannot depend on anything else (no
    # required field, no callable default, no validate() of its own); None otherwise.
    empty_result: dict | None


@cache
def _shape(serializer_class: type[serializers.Serializer]) -> _Shape:
    # A serializer deep-copies its declared fields for each instance: read them once per class.
    fields = serializer_class().fields
    shape = tuple(
        _Field(name, getattr(field, "allow_blank", False), isinstance(field, serializers.IntegerField))
        for name, field in fields.items()
    )
    static = serializer_class.validate is serializers.Serializer.validate and all(
        not field.required and (field.default is empty or not callable(field.default)) for field in fields.values()
    )
    empty_result = None
    if static:
        serializer = serializer_class(data=QueryDict())
        if serializer.is_valid():
            empty_result = dict(serializer.validated_data)
    return _Shape(shape, empty_result)


def query_validate(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The validated query parameters of ``request`` (400 with DRF's field map otherwise).

    Each parameter is given once (a repeated one is a 400, not its last value),
    and an empty value is a value: ``?page=`` is not a page number, while a
    field with ``allow_blank`` accepts it.
    """
    params = request.query_params
    shape = _shape(serializer_class)
    if shape.empty_result is not None and not any(field.name in params for field in shape.fields):
        return dict(shape.empty_result)
    errors = {}
    for field in shape.fields:
        values = params.getlist(field.name)
        if len(values) > 1:
            errors[field.name] = [_("Give this parameter once.")]
        elif values == [""] and not field.allow_blank:
            errors[field.name] = [_("Enter a value.")]
        elif values and field.integer and not INTEGER.fullmatch(values[0]):
            # DRF's IntegerField also reads " 7", "7.0" and non-ASCII digits.
            errors[field.name] = [_("A valid integer is required.")]
    if errors:
        raise serializers.ValidationError(errors)
    data = QueryDict(mutable=True)
    for field in shape.fields:
        if field.name in params:
            data[field.name] = params[field.name]
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
