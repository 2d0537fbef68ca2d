"""The domain error hierarchy.

Services raise these; the API exception handler and the HTML views map them to
HTTP (400/403/404/409). Services never know about HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """A business rule refused the operation. ``code`` is machine-readable."""

    code = "invalid"

    def __init__(self, message: StrOrPromise = "", *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = str(message) or self.__class__.__name__
        if code:
            self.code = code
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(DomainError):
    """The input breaks a rule (400)."""

    code = "invalid"


class PermissionDenied(DomainError):
    """The actor may not do this (403)."""

    code = "permission_denied"


class UserBlocked(PermissionDenied):
    code = "user_blocked"


class NotFound(DomainError):
    """The object does not exist or is not the actor's (404)."""

    code = "not_found"


class Conflict(DomainError):
    """The current state forbids the operation (409)."""

    code = "conflict"


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class SlotTaken(Conflict):
    code = "slot_taken"
