"""Serializers and fields whose accepted input is exactly what the OpenAPI schema says."""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.utils import html

if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer[Any]  # what StrictJSONMixin is mixed into
else:
    _SerializerBase = object


class DecimalStringField(serializers.DecimalField):
    """A decimal given as a JSON string of plain digits: ``"990"``, ``"990.5"``, ``"990.50"``.

    DRF's DecimalField also takes numbers, exponents (``"1e3"``), signs,
    underscores and surrounding spaces, which the schema's pattern cannot
    describe; this field takes only what the pattern matches. It is signed
    only when ``min_value`` allows a negative value.
    """

    default_error_messages = {"invalid": _('Enter a number as a string, e.g. "990.00".')}

    @property
    def pattern(self) -> str:
        whole = max((self.max_digits or 18) - (self.decimal_places or 0), 1)
        sign = "" if self.min_value is not None and self.min_value >= 0 else "-?"
        fraction = rf"(\.[0-9]{{1,{self.decimal_places}}})?" if self.decimal_places else ""
        return rf"^{sign}[0-9]{{1,{whole}}}{fraction}$"

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(self.pattern, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class DecimalStringFieldSchema(OpenApiSerializerFieldExtension):
    target_class = DecimalStringField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern}


class StrictJSONMixin(_SerializerBase):
    """A JSON body's values must have the JSON type the schema gives them.

    DRF converts what it can: ``5`` becomes ``"5"`` for a CharField, ``"5"``
    becomes ``5`` for an IntegerField, ``"yes"`` becomes ``True`` for a
    BooleanField. The schema says ``string``, ``integer`` and ``boolean``, so
    a value of another type is a 400 here, named by field. Form and query
    data (all strings) are left to DRF's usual parsing.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not html.is_html_input(data):
            errors = {
                name: [_("Incorrect type: expected %(type)s.") % {"type": _json_type(field)}]
                for field in self._writable_fields
                if (name := field.field_name) is not None  # always set: the fields are bound
                and name in data
                and not _has_json_type(field, data[name])
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictJSONMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictJSONMixin, serializers.ModelSerializer):
    pass


def _has_json_type(field, value) -> bool:
    if value is None:
        return True  # the field's allow_null decides
    if isinstance(field, serializers.ManyRelatedField):
        return isinstance(value, list) and all(_has_json_type(field.child_relation, item) for item in value)
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        return isinstance(value, list) and (
            isinstance(field, serializers.ListSerializer) or all(_has_json_type(field.child, item) for item in value)
        )
    if isinstance(field, serializers.BaseSerializer):
        return isinstance(value, Mapping)
    expected = _python_types(field)
    return expected is None or (isinstance(value, expected) and not (isinstance(value, bool) and bool not in expected))


def _python_types(field) -> tuple[type, ...] | None:
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return (int,)
    if isinstance(field, serializers.FloatField):
        return (int, float)
    if isinstance(field, serializers.ChoiceField):
        keys = list(field.choices)
        return (int,) if keys and all(isinstance(key, int) for key in keys) else (str,)
    if isinstance(field, serializers.CharField | serializers.DateTimeField | serializers.DateField):
        return (str,)
    if isinstance(field, serializers.TimeField | serializers.DecimalField):
        return (str,)
    return None  # files, JSON and dict fields: anything DRF takes


def _json_type(field) -> str:
    types = _python_types(field) or ()
    if isinstance(field, serializers.ManyRelatedField | serializers.ListField | serializers.ListSerializer):
        return "array"
    if isinstance(field, serializers.BaseSerializer):
        return "object"
    if bool in types:
        return "boolean"
    if float in types:
        return "number"
    if int in types:
        return "integer"
    return "string"
