"""The API error format: ``{"detail": …, "code": …}``.

Validation errors keep DRF's field map. Domain errors from services map to
400/403/404/409 here, in one place. Bad input never becomes a 500.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal import errors

DOMAIN_STATUS = (
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (errors.Conflict, status.HTTP_409_CONFLICT),
    (errors.DomainError, status.HTTP_400_BAD_REQUEST),
)


def domain_error_status(exc: errors.DomainError) -> int:
    for cls, code in DOMAIN_STATUS:
        if isinstance(exc, cls):
            return code
    return status.HTTP_400_BAD_REQUEST


def exception_handler(exc, context):
    if isinstance(exc, errors.DomainError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=domain_error_status(exc))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        return Response({"detail": _("Not found."), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        # Keep DRF's field map; a bare list becomes {"detail": …, "code": "invalid"}.
        if isinstance(response.data, list):
            response.data = {"detail": " ".join(str(m) for m in response.data), "code": "invalid"}
        return response
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        detail = exc.detail if isinstance(exc.detail, str) else response.data
        response.data = {"detail": str(detail), "code": code}
        # DRF sets Throttled.wait; the stubs do not declare it.
        wait = exc.wait if isinstance(exc, exceptions.Throttled) else None  # type: ignore[attr-defined]
        if wait is not None:
            response.data["retry_after"] = int(wait)
    return response
