"""The billing part of the staff bot's ``/stats`` (registered with mailings in BillingConfig.ready())."""

from decimal import Decimal

from django.utils.translation import gettext as _

from billing.selectors import revenue_figures
from portal.templatetags.citydesk import rub


def bot_stats_billing(*, start, end) -> list[str]:
    """Top-ups (count and sum) and revenue (subscription charges) in [start, end), from the ledger."""
    days = revenue_figures(start=start, end=end).values()
    topups = sum((day["topups"] for day in days), Decimal(0))
    topups_count = sum(day["topups_count"] for day in days)
    charges = sum((day["charges"] for day in days), Decimal(0))
    charges_count = sum(day["charges_count"] for day in days)
    return [
        _("Top-ups: %(count)s for %(amount)s") % {"count": topups_count, "amount": rub(topups)},
        _("Revenue (subscriptions paid): %(count)s for %(amount)s") % {"count": charges_count, "amount": rub(charges)},
    ]
