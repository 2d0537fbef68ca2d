"""What the apps above catalog add to its list and its organization page.

Catalog sits below bookings (docs/architecture.md, Layers), yet its pages
show things only bookings knows: opening hours, free time, reviews. Bookings
hands them down at start-up (``BookingsConfig.ready()``) through these two
registries; catalog never imports it.

- ``free_today_register(apply=)``: ``apply(queryset, *, now) -> queryset``
  keeps the organizations of ``queryset`` that still have free time today in
  their city. Without a registered filter the catalog offers no such filter.
- ``organization_section_register(slot=, render=, position=)``:
  ``render(*, request, organization) -> str`` returns safe HTML for the
  organization page's ``slot`` (``"main"`` under the services, ``"aside"`` in
  the side column), or ``""`` for nothing. Sections of a slot are shown by
  ``position``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.safestring import SafeString, mark_safe

SLOTS = ("main", "aside")

_free_today: list[Callable] = []


@dataclass(frozen=True)
class Section:
    slot: str
    render: Callable[..., str]
    position: int


_sections: dict[str, Section] = {}


def free_today_register(*, apply: Callable) -> None:
    """Register the "has free time today" filter (one; registering again replaces it)."""
    _free_today[:] = [apply]


def free_today_available() -> bool:
    return bool(_free_today)


def free_today_filter(queryset, *, now: datetime):
    """``queryset`` narrowed to organizations with free time today (unchanged when nobody registered)."""
    if not _free_today:
        return queryset
    return _free_today[0](queryset, now=now)


def organization_section_register(*, slot: str, render: Callable[..., str], position: int = 100) -> None:
    """Add (or replace, by the render function's qualified name) a section of the organization page."""
    if slot not in SLOTS:
        raise ValueError(f"Unknown slot {slot!r}; use one of {SLOTS}")
    key = f"{render.__module__}.{render.__qualname__}"
    _sections[key] = Section(slot=slot, render=render, position=position)


def organization_sections(*, request, organization) -> dict[str, list[SafeString]]:
    """The rendered sections of each slot for this organization's page."""
    rendered: dict[str, list[SafeString]] = {slot: [] for slot in SLOTS}
    for section in sorted(_sections.values(), key=lambda s: s.position):
        html = section.render(request=request, organization=organization)
        if html:
            rendered[section.slot].append(mark_safe(html))  # noqa: S308 - rendered by the registrant's templates
    return rendered
