"""Catalog reads: the public list with filters and search, details, pickers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache as memoize
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection
from django.db.models import F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONArray
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog import extensions, search
from catalog.cache import versioned_get, versioned_set
from catalog.models import Category, City, Organization, OrganizationPhoto, Service
from mailings.models import Mailing
from portal.models import User

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class OrganizationPage(TypedDict):
    """What ``organization_detail_queryset`` prefetches onto each organization."""

    gallery: list[OrganizationPhoto]
    active_services: list[Service]


ORDERINGS = {
    # public value: (label, order_by)
    "relevance": (_("Relevance"), None),
    "-rating": (_("Best rated first"), (F("rating").desc(nulls_last=True), "-reviews_count", "name", "pk")),
    "name": (_("Name A–Z"), ("name", "pk")),
    "-name": (_("Name Z–A"), ("-name", "-pk")),
    "newest": (_("Newest first"), ("-created_at", "-pk")),
    "price": (_("Cheapest first"), (F("min_price").asc(nulls_last=True), "name", "pk")),
    "-price": (_("Most expensive first"), (F("min_price").desc(nulls_last=True), "name", "pk")),
}
DEFAULT_ORDERING = "name"


def is_postgres() -> bool:
    return search.is_postgres()


def owners(*, city_id: int | None = None) -> QuerySet[User]:
    """Users who own an organization (in the city ``city_id`` when given), whatever its status."""
    organizations = Organization.objects.all() if city_id is None else Organization.objects.filter(city_id=city_id)
    return User.objects.filter(pk__in=organizations.values("owner_id"))


def mailing_audience_owners(mailing: Mailing) -> QuerySet[User]:
    """Mailing audience "owners" (a resolver registered with mailings in CatalogConfig.ready())."""
    return owners()


def mailing_audience_city_owners(mailing: Mailing) -> QuerySet[User]:
    """Mailing audience "city": the owners of organizations in the mailing's city (beside its residents)."""
    return owners(city_id=mailing.city_id)


def organization_can_manage(*, user: User | AnonymousUser | None, organization: Organization) -> bool:
    """May ``user`` manage ``organization``: its details, photos, services, resources, opening
    hours, bookings (check-in included) and subscriptions?

    The one answer for every app and entry point. The owner may, and so may
    staff, on any organization (they moderate the catalog and check in at any
    desk); nobody anonymous, inactive or blocked.
    """
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return False
    if not user.is_active or user.is_blocked:
        return False
    return bool(user.is_staff or organization.owner_id == user.pk)


def organizations_managed_by(*, user: User | AnonymousUser | None) -> QuerySet[Organization]:
    """The organizations ``user`` may manage (``organization_can_manage`` as a query): all for staff."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return Organization.objects.none()
    if not user.is_active or user.is_blocked:
        return Organization.objects.none()
    if user.is_staff:
        return Organization.objects.all()
    return Organization.objects.filter(owner=user)


def cities() -> QuerySet[City]:
    return City.objects.order_by("name")


def categories() -> QuerySet[Category]:
    return Category.objects.order_by("position", "name")


def organization_list(
    *,
    city: str | None = None,
    category: str | None = None,
    q: str | None = None,
    ordering: str | None = None,
    free_today: bool = False,
    base: QuerySet[Organization] | None = None,
    now: datetime | None = None,
    cards: bool = True,
) -> QuerySet[Organization]:
    """Visible organizations filtered by city slug (or id), category slug (or id, children
    included), a search query (catalog.search) and "has free time today", ordered; ready to
    paginate in a constant number of queries: with what a card shows (``with_cards``), or
    without (``cards=False``) for ``CardRows``.

    Ordering: ``relevance`` (default when searching), ``-rating``, ``name``, ``-name``,
    ``newest``, ``price``/``-price`` (by the cheapest active service).
    """
    qs = base if base is not None else Organization.objects.visible(now=now)
    if city:
        qs = qs.filter(city__pk=int(city)) if str(city).isdigit() else qs.filter(city__slug=city)
    if category:
        cat_filter = Q(pk=int(category)) if str(category).isdigit() else Q(slug=category)
        # The category and its subcategories, in one nested subquery (no extra round trip).
        chosen = Category.objects.filter(cat_filter | Q(parent__in=Category.objects.filter(cat_filter)))
        through = Organization.categories.through.objects.filter(category__in=chosen)
        qs = qs.filter(pk__in=through.values("organization_id"))
    if free_today:
        qs = extensions.free_today_filter(qs, now=now or timezone.now())
    q = (q or "").strip()[: search.MAX_QUERY_LENGTH]
    if q:
        qs = search.search(qs, q)
    if ordering not in ORDERINGS:
        ordering = "relevance" if q else DEFAULT_ORDERING
    if ordering == "relevance" and not q:
        ordering = DEFAULT_ORDERING
    if ordering in ("price", "-price"):
        # The card's own min_price, selected once for the order and the card; the Django
        # plugin takes it for a redefinition of the attribute the views set on instances.
        qs = qs.annotate(min_price=_card_columns(connection.vendor)["min_price"])  # type: ignore[no-redef]
    qs = search.order_by_relevance(qs) if ordering == "relevance" else qs.order_by(*ORDERINGS[ordering][1] or ())
    return with_cards(qs) if cards else qs


def with_cards(qs: QuerySet[Organization]) -> QuerySet[Organization]:
    """What a catalog card shows: city, owner (verified?), categories, photos, active services
    (for "from N ₽"); the rating and the reviews count are columns.

    Always 1 + 3 queries for a page, whatever its size.
    """
    return qs.select_related("city", "owner").prefetch_related(
        Prefetch("categories", queryset=Category.objects.select_related("parent").order_by("position", "name")),
        Prefetch("photos", queryset=OrganizationPhoto.objects.order_by("position", "pk"), to_attr="gallery"),
        Prefetch(
            "services",
            queryset=Service.objects.filter(is_active=True).only("id", "organization_id", "price"),
            to_attr="active_service_prices",
        ),
    )


def _min_price() -> Subquery:
    """The cheapest active service's price of the outer organization (NULL without one)."""
    return Subquery(
        Service.objects.filter(organization=OuterRef("pk"), is_active=True)
        .order_by()
        .values("organization")
        .annotate(m=Min("price"))
        .values("m")[:1]
    )


def _card_subqueries(*, postgres: bool) -> dict[str, Subquery]:
    """The card columns that need a subquery: the cheapest active price, the cover photo's
    file name and (on PostgreSQL) the categories as a JSON array of ``[id, name, slug]``."""
    cover = OrganizationPhoto.objects.filter(organization=OuterRef("pk")).order_by("position", "pk")
    subqueries = {"min_price": _min_price(), "cover": Subquery(cover.values("image")[:1])}
    if postgres:
        categories = (
            Organization.categories.through.objects.filter(organization_id=OuterRef("pk"))
            .order_by()
            .values("organization_id")
            .annotate(
                rows=JSONBAgg(
                    JSONArray("category_id", "category__name", "category__slug"),
                    order_by=("category__position", "category__name", "category_id"),
                )
            )
            .values("rows")  # type: ignore[misc]  # the plugin does not see the annotation made just above
        )
        subqueries["category_rows"] = Subquery(categories)
    return subqueries


@memoize
def _card_columns(vendor: str) -> dict[str, RawSQL]:
    """``_card_subqueries`` compiled to SQL once per process, as columns for any organization query.

    Resolving and compiling three correlated subqueries costs more than a
    millisecond per request, most of the Python time of an uncached list page,
    and their SQL never changes: it names the outer organization
    "catalog_organization", the alias Django gives the base table of every
    Organization query.
    """
    subqueries = _card_subqueries(postgres=vendor == "postgresql")
    query = Organization.objects.values("pk", **subqueries).query
    compiler = query.get_compiler(connection=connection)
    columns = {}
    for name in subqueries:
        expression = query.annotations[name]
        sql, params = compiler.compile(expression)
        # The ORM wrote this SQL from the subqueries above: no outside input reaches it.
        columns[name] = RawSQL(sql, params, output_field=expression.output_field)  # noqa: S611
    return columns


def organization_cards(qs: QuerySet[Organization]) -> QuerySet[Organization, dict[str, Any]]:
    """The catalog cards of ``qs`` (``organization_list(..., cards=False)``) as rows, not model instances.

    A row (a dict) holds ``id``, ``name``, ``slug``, ``address``, ``phone``,
    ``website``, ``rating``, ``reviews_count``, ``city_id``, ``city_name``,
    ``city_slug``, ``is_verified`` (the owner's), ``min_price`` (the cheapest
    active service's price or None), ``cover`` (the file name of the first
    gallery photo or None) and ``category_rows`` (``[id, name, slug]`` of each
    category in display order, or None without categories), all from the
    page's one query; on databases other than PostgreSQL ``category_rows`` is
    missing until ``cards_complete`` fills it (one more query). Order and
    filters are ``qs``'s.
    """
    fields = ["id", "name", "slug", "address", "phone", "website", "rating", "reviews_count", "city_id"]
    columns = dict(_card_columns(connection.vendor))
    if "min_price" in qs.query.annotations:  # ordered by price: computed once
        fields.append("min_price")
        del columns["min_price"]
    rows: QuerySet[Organization, dict[str, Any]] = qs.values(
        *fields, city_name=F("city__name"), city_slug=F("city__slug"), is_verified=F("owner__is_verified"), **columns
    )
    return rows


class CardRows:
    """The cards of a filtered, ordered organization queryset as rows, for a paginator.

    ``count()`` counts the organizations (without the card's joins and
    subqueries); a slice is the page's rows (``organization_cards``, completed
    by ``cards_complete``): two queries for a page on PostgreSQL.
    """

    def __init__(self, organizations: QuerySet[Organization]):
        self.organizations = organizations

    def count(self) -> int:
        # values(): the same SQL, without working out which columns the manager defers.
        return self.organizations.values("pk").count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return cards_complete(list(organization_cards(self.organizations)[index]))


def cards_complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill ``category_rows`` of rows from ``organization_cards`` where the page query did not
    (databases other than PostgreSQL): one query for the page. Returns ``rows``."""
    missing = [row for row in rows if "category_rows" not in row]
    if missing:
        found: dict[int, list[Any]] = {row["id"]: [] for row in missing}
        through = Organization.categories.through.objects.filter(organization_id__in=list(found))
        for organization_id, *category in through.order_by(
            "category__position", "category__name", "category_id"
        ).values_list("organization_id", "category_id", "category__name", "category__slug"):
            found[organization_id].append(category)
        for row in missing:
            row["category_rows"] = found[row["id"]]
    return rows


def card_min_price(organization: Organization) -> Decimal | None:
    """The cheapest active service's price of a card from ``with_cards`` (None without services)."""
    services = getattr(organization, "active_service_prices", None)
    if services is None:
        services = getattr(organization, "active_services", [])
    prices: list[Decimal] = [s.price for s in services]
    return min(prices) if prices else None


def card_cover(organization: Organization) -> OrganizationPhoto | None:
    """The first gallery photo of a card from ``with_cards``, or None."""
    gallery: list[OrganizationPhoto] | None = getattr(organization, "gallery", None)
    if gallery is None:
        gallery = list(organization.photos.all())
    return gallery[0] if gallery else None


def organization_detail_queryset(
    *, user: User | AnonymousUser | None = None
) -> QuerySet[WithAnnotations[Organization, OrganizationPage]]:
    """Organizations whose page ``user`` may open: visible ones and those they may manage."""
    signed_in = user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated
    if isinstance(user, User) and signed_in and user.is_staff and user.is_active and not user.is_blocked:
        qs = Organization.objects.all()
    elif signed_in:
        qs = Organization.objects.filter(
            Q(pk__in=Organization.objects.visible().values("pk"))
            | Q(pk__in=organizations_managed_by(user=user).values("pk"))
        )
    else:
        qs = Organization.objects.visible()
    return qs.select_related("city", "owner").prefetch_related(
        Prefetch("categories", queryset=Category.objects.select_related("parent").order_by("position", "name")),
        Prefetch("photos", queryset=OrganizationPhoto.objects.order_by("position", "pk"), to_attr="gallery"),
        Prefetch("services", queryset=Service.objects.filter(is_active=True).order_by("price", "name"),
                 to_attr="active_services"),
    )  # fmt: skip


def organizations_of_owner(*, user: User | AnonymousUser | None) -> QuerySet[Organization]:
    return (
        Organization.objects.owned_by(user)
        .select_related("city")
        .prefetch_related(
            "categories",
            Prefetch("photos", queryset=OrganizationPhoto.objects.order_by("position", "pk"), to_attr="gallery"),
        )
        .order_by("-created_at", "pk")
    )


def featured_organizations(*, limit: int = 6) -> list[Organization]:
    """A few visible organizations for the home page, the most recently updated first."""
    organizations = list(with_cards(Organization.objects.visible()).order_by("-updated_at", "pk")[:limit])
    for organization in organizations:
        organization.min_price = card_min_price(organization)
        organization.cover = card_cover(organization)
    return organizations


def pickers() -> dict[str, list[Any]]:
    """Cities and categories for the filter pickers, cached until the catalog changes."""
    data: dict[str, list[Any]] | None
    data, version = versioned_get("catalog:pickers")
    if data is None:
        data = {"cities": list(cities()), "categories": list(categories())}
        versioned_set("catalog:pickers", data, 3600, version=version)
    return data


def home_context() -> dict[str, Any]:
    """What the home page shows: the city and category pickers and a few featured organizations."""
    data = pickers()
    return {
        "cities": data["cities"],
        "categories": [c for c in data["categories"] if c.parent_id is None],
        "featured": featured_organizations(),
    }


def search_suggestion(*, q: str, **filters: Any) -> str | None:
    """«Возможно, вы искали …»: a query close to ``q`` that finds something with the same filters, or None."""
    proposal = search.suggestion(q)
    if proposal and organization_list(q=proposal, **filters).exists():
        return proposal
    return None


def organization_links(*, organization: Organization) -> dict[str, str]:
    """Links of an organization's page: the address in Yandex Maps, the phone, the Mini App share links.

    ``telegram``: ``https://t.me/<bot>?startapp=org_<id>`` when TELEGRAM_BOT_USERNAME is set;
    ``vk``: ``https://vk.com/app<VK_APP_ID>#org_<id>`` when VK_APP_ID is set (docs/miniapp.md).
    """
    address = ", ".join(part for part in (organization.city.name, organization.address) if part)
    bot = (getattr(settings, "TELEGRAM_BOT_USERNAME", "") or "").lstrip("@")
    vk_app = getattr(settings, "VK_APP_ID", "") or ""
    return {
        "map": f"https://yandex.ru/maps/?text={quote(address)}" if organization.address else "",
        "tel": f"tel:{organization.phone}" if organization.phone else "",
        "telegram": f"https://t.me/{bot}?startapp=org_{organization.pk}" if bot else "",
        "vk": f"https://vk.com/app{vk_app}#org_{organization.pk}" if vk_app else "",
    }
