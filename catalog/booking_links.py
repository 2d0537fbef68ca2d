"""Where an organization can be booked, answered by an app above catalog.

The catalog's pages show a book button only where something can be booked
(a place or specialist, opening hours; for a service, someone who offers it),
and tell the owner what is missing. Bookings knows that and sits above
catalog, so it hands the answer down: its ``AppConfig.ready()`` registers a
resolver here. Without one (bookings not installed) nothing is bookable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class SetupStep:
    """One thing the owner sets up before clients can book (``key`` names it for code and tests)."""

    key: str
    label: StrOrPromise  # lazy texts are translated where they are shown
    done: bool
    url: str
    required: bool = True
    detail: StrOrPromise = ""


@dataclass(frozen=True)
class BookingLinks:
    """``url``: the organization's booking page, or None when nothing can be booked there.

    ``service_ids``: the services that get a book button (``url`` + ``?service=<id>``).
    ``steps``: the owner's set-up checklist.
    """

    url: str | None = None
    service_ids: frozenset[int] = frozenset()
    steps: tuple[SetupStep, ...] = field(default_factory=tuple)

    @property
    def missing(self) -> tuple[SetupStep, ...]:
        return tuple(step for step in self.steps if not step.done)


_resolver: Callable[..., BookingLinks] | None = None


def booking_links_register(*, resolver: Callable[..., BookingLinks]) -> None:
    """Set the resolver: ``resolver(organization=Organization) -> BookingLinks`` (called once per page)."""
    global _resolver
    _resolver = resolver


def booking_links(*, organization) -> BookingLinks:
    """The booking links of ``organization`` (nothing bookable when no resolver is registered)."""
    if _resolver is None:
        return BookingLinks()
    return _resolver(organization=organization)
