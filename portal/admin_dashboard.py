"""The admin's start page: today's figures, each linking to the list behind it.

The admin site is portal's, below every app whose figures it shows, so the apps
hand their figures down: each registers a provider from its ``admin.py``
(loaded by the admin's autodiscovery)::

    dashboard_register(key="bookings", provider=today_figures, order=10)

A provider takes the request and returns a list of :class:`Figure`; the
providers run in ``order`` when the index page is drawn. A provider that
fails is logged and left out, so one broken figure never takes the start page
down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    """One number on the start page: what it counts, its value (already formatted or a number), a link."""

    key: str
    label: StrOrPromise
    value: object
    url: str = ""
    hint: StrOrPromise = ""
    attention: bool = False  # drawn highlighted (e.g. tickets waiting for an answer)


Provider = Callable[[object], list[Figure]]
_PROVIDERS: dict[str, tuple[int, Provider]] = {}


def dashboard_register(*, key: str, provider: Provider, order: int = 100) -> None:
    """Add (or replace, by ``key``) a provider of start-page figures."""
    _PROVIDERS[key] = (order, provider)


def dashboard_figures(request) -> list[Figure]:
    """Every registered provider's figures, in provider order."""
    figures: list[Figure] = []
    for key, (_order, provider) in sorted(_PROVIDERS.items(), key=lambda item: (item[1][0], item[0])):
        try:
            figures.extend(provider(request))
        except Exception:
            logger.exception("admin dashboard: the %r figures failed", key)
    return figures
