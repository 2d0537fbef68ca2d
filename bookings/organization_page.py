"""What bookings adds to catalog's organization page: opening hours and reviews.

Registered with ``catalog.extensions`` in BookingsConfig.ready(); catalog
renders the returned HTML in its page without knowing what it is.
"""

from django.template.loader import render_to_string

from bookings import selectors

LATEST_REVIEWS = 5


def hours_section(*, request, organization) -> str:
    """The week's opening hours with today highlighted and "open until …" / "closed" (side column)."""
    week = selectors.organization_week_hours(organization=organization)
    if not week.has_hours:
        return ""
    return render_to_string(
        "bookings/_organization_hours.html",
        {"week": week, "organization": organization, "zone": organization.city.timezone},
        request=request,
    )


def reviews_section(*, request, organization) -> str:
    """The rating and the latest reviews with the owner's answers (main column)."""
    reviews = list(selectors.review_list_for_organization(organization=organization)[:LATEST_REVIEWS])
    return render_to_string(
        "bookings/_organization_reviews.html",
        {"reviews": reviews, "organization": organization, "zone": organization.city.timezone},
        request=request,
    )
