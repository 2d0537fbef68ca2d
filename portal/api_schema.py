"""The OpenAPI schema tells every status an operation can answer, with its body.

``AutoSchema`` (DRF's ``DEFAULT_SCHEMA_CLASS``) adds the error responses that
follow from how a view is built, so no view has to repeat them:

- 400 when the operation takes a body or query parameters (DRF's field map,
  or ``{"detail", "code"}`` for a rule that is not about one field);
- 401 and 403 when the view authenticates: bad or missing credentials, a
  blocked user (``user_blocked``), a CSRF failure, or a permission refused;
- 404 when the path names an object, or the list is paginated (a page past
  the end);
- 415 when the operation takes a body (a content type it does not parse);
- 429 when the view is throttled.

A status only the business rules know about (409 ``slot_taken``, a 403 with
its own code) is declared on the handler with :func:`api_errors`. Error
responses declared with ``extend_schema`` without a body get the error body.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: a human-readable `detail` (in the request's language) and a machine-readable `code`.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["detail", "code"],
}

FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": (
        "Invalid input: each invalid field maps to its messages (a nested object for nested fields and lists); "
        "`non_field_errors` holds the messages about the input as a whole."
    ),
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
    "minProperties": 1,
}

NO_NUL_PATTERN = r"^[^\x00]*$"

DEFAULT_DESCRIPTIONS = {
    400: "Invalid input: field errors, or a rule that refused the request",
    401: "Missing, invalid or stale credentials (Mini App launch data or session)",
    403: "Not allowed: a blocked user (code user_blocked), a CSRF failure or a permission refused",
    404: "Not found, or not yours",
    409: "The current state forbids the operation",
    415: "Unsupported content type of the body",
    429: "Too many requests: retry after `retry_after` seconds",
}


def api_errors(responses: dict[int, str]):
    """Declare the error statuses a handler answers beyond the inferred ones, with the codes it uses.

    ``@api_errors({409: "slot_taken"})`` on ``post``: the schema documents 409
    with the error body and this description.
    """

    def decorate(handler):
        handler.api_errors = {**getattr(handler, "api_errors", {}), **responses}
        return handler

    return decorate


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus the error responses (see the module docstring)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status, description in self._error_statuses(operation).items():
            response = responses.setdefault(str(status), {})
            if not response.get("description"):
                response["description"] = description
        for key, response in responses.items():
            if not key.startswith("4"):
                continue
            response.setdefault("content", {"application/json": {"schema": self._error_ref(int(key))}})
            if key == "429":
                response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # An id in a body names a row: our ids start at 1.
        if (
            direction == "request"
            and isinstance(field, serializers.PrimaryKeyRelatedField)
            and schema.get("type") == "integer"
        ):
            schema.setdefault("minimum", 1)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # DRF's CharField refuses a NUL character (400): say so on every free-text field.
        if (
            isinstance(field, serializers.CharField)
            and not field.read_only
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum", "oneOf"} & schema.keys()
        ):
            schema["pattern"] = NO_NUL_PATTERN

    def _get_request_for_media_type(self, serializer, direction="request"):
        # spectacular makes every PATCH body partial, as DRF's UpdateModelMixin does; a view
        # whose PATCH validates the whole body sets ``schema_patch_is_complete = True`` and
        # keeps its required fields.
        if self.method == "PATCH" and getattr(self.view, "schema_patch_is_complete", False):
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def _error_statuses(self, operation) -> dict[int, str]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        statuses: dict[int, str] = {}
        if has_body or any(p["in"] == "query" for p in parameters) or self.method in ("POST", "PUT", "PATCH", "DELETE"):
            statuses[400] = DEFAULT_DESCRIPTIONS[400]
        if self.view.get_authenticators():
            statuses[401] = DEFAULT_DESCRIPTIONS[401]
            statuses[403] = DEFAULT_DESCRIPTIONS[403]
        elif not self._allows_anyone():
            statuses[403] = DEFAULT_DESCRIPTIONS[403]
        if any(p["in"] == "path" for p in parameters) or (self._is_list_view() and self._get_paginator()):
            statuses[404] = DEFAULT_DESCRIPTIONS[404]
        if has_body:
            statuses[415] = DEFAULT_DESCRIPTIONS[415]
        if self.view.get_throttles():
            statuses[429] = DEFAULT_DESCRIPTIONS[429]
        handler = getattr(self.view, self.method.lower(), None)
        for status, description in getattr(handler, "api_errors", {}).items():
            statuses[status] = f"{statuses[status]}; {description}" if status in statuses else description
        return statuses

    def _allows_anyone(self) -> bool:
        return all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _error_ref(self, status: int) -> dict:
        error = self._component("Error", ERROR_SCHEMA)
        if status != 400:
            return error
        field_errors = self._component("FieldErrors", FIELD_ERRORS_SCHEMA)
        return {"anyOf": [error, field_errors]}

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component.ref
