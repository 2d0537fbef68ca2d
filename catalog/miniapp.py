"""The Mini App start parameter ``org_<id>``: the organization's page (registered in CatalogConfig.ready())."""

from django.urls import reverse

from catalog.selectors import organization_detail_queryset

ORGANIZATION_START_PREFIX = "org_"


def organization_start_url(*, user, argument: str) -> str | None:
    """The page of organization ``argument`` when ``user`` may open it, else None (the home page)."""
    if not argument.isascii() or not argument.isdigit() or len(argument) > 18:
        return None
    pk = int(argument)
    if not organization_detail_queryset(user=user).filter(pk=pk).exists():
        return None
    return reverse("catalog:detail", args=[pk])
