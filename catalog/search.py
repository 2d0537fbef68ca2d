"""Catalog search: what "matches" means, on every database.

Text is normalised once, in Python, the same way on every database: lower
case, ё → е, punctuation and underscores to single spaces (``normalize``).
Python does it because a database's own ``lower()`` may know only ASCII
(SQLite's always does; PostgreSQL's does under the C locale).

Stored columns of the organization, kept here by signals (``connect``) and by
``organization_search_refresh`` (which bulk writers call):

- ``search_name``: its normalised name;
- ``search_extra``: the normalised names of its categories and active
  services, one per line;
- ``search_text``: name, categories, services, description and address
  together (normalised).

Keeping the names of services and categories on the organization's row lets
every condition of a search use an index of that one table (PostgreSQL
combines them in a BitmapOr) instead of joining 20,000 services.

Matching:

- **PostgreSQL**: every query word must match, as a prefix of a stemmed word
  (``to_tsquery('russian', 'word:*')``) in ``search_vector`` — a trigger
  builds it from the name (weight A), categories and services (B),
  description (C) and address (D). A word that matches nothing anywhere in
  the catalog is taken for a typo: it matches by ``pg_trgm`` word similarity
  (≥ ``WORD_SIMILARITY``) to a part of the organization's name or of the
  names of its services and categories (GIN trigram indexes on
  ``search_name`` and ``search_extra``).
- **Other databases** (SQLite for ``make run``): the Snowball stem of every
  query word occurs in ``search_text`` (so «стрижка» finds «стрижки» and
  «Стрижка», «барбер» finds «Барбершопы»). No typo tolerance there.

Ranking (``relevance``): an organization whose name is the query comes
first, then names that start with it, then names that contain it; within a
tier PostgreSQL orders by ``ts_rank`` plus the name's trigram similarity,
other databases by name.

When nothing matches, ``suggestion`` proposes the closest words of the
catalog's vocabulary («Возможно, вы искали …»), on every database.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache as memoize
from typing import TYPE_CHECKING, Any

import snowballstemmer
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import Case, Exists, F, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from catalog.cache import versioned_get, versioned_set
from catalog.models import Category, Organization, Service

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

# pg_trgm's word similarity a typo must reach (its default, 0.6, misses «каворкинг» → «коворкинги»: 0.5).
WORD_SIMILARITY = 0.5
MAX_TERMS = 8
MAX_QUERY_LENGTH = 200
SUGGESTION_CUTOFF = 0.75
BATCH = 500

_SEPARATORS = re.compile(r"[\W_]+")
_CYRILLIC = re.compile(r"[а-я]")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def normalize(text: str | None) -> str:
    """Lower case, ё → е, every run of punctuation or spaces to one space."""
    text = (text or "").lower().replace("ё", "е")
    return " ".join(_SEPARATORS.sub(" ", text).split())


def terms(q: str | None) -> list[str]:
    """The words of a query, normalised; one-letter words are dropped when there are longer ones."""
    words = normalize((q or "")[:MAX_QUERY_LENGTH]).split()
    longer = [w for w in words if len(w) > 1]
    return (longer or words)[:MAX_TERMS]


@memoize
def _stemmer(language: str) -> Any:  # snowballstemmer has no types
    return snowballstemmer.stemmer(language)


def stem(word: str) -> str:
    """The Snowball stem of a normalised word (Russian for Cyrillic words, English for Latin ones)."""
    if word.isdigit() or len(word) < 4:
        return word
    language = "russian" if _CYRILLIC.search(word) else "english"
    return _stemmer(language).stemWord(word) or word


# --- matching and ranking --------------------------------------------------------------


def _prefix_query(words: list[str]) -> SearchQuery:
    # Only letters and digits reach the raw tsquery (normalize() removed everything else).
    return SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="russian")


def _postgres_match(qs: QuerySet[Organization], words: list[str], phrase: str) -> QuerySet[Organization]:
    for word in words:
        prefix = _prefix_query([word])
        exact = Organization.objects.filter(search_vector=prefix).order_by().values("pk")
        # The typo branch runs only for a word the text search knows nowhere in the catalog: the
        # uncorrelated NOT EXISTS becomes a one-time filter, so for a known word PostgreSQL never
        # computes a similarity (that would cost a recheck of every similar row).
        typo = (
            Organization.objects.filter(
                ~Exists(Organization.objects.filter(search_vector=prefix)),
                Q(search_name__trigram_word_similar=word) | Q(search_extra__trigram_word_similar=word),
            )
            .order_by()
            .values("pk")
        )
        qs = qs.filter(pk__in=exact.union(typo, all=True))
    return qs.annotate(
        search_score=Coalesce(
            SearchRank(F("search_vector"), _prefix_query(words)), Value(0.0), output_field=FloatField()
        )
        + TrigramWordSimilarity(phrase, "search_name")
    )


def _fallback_match(qs: QuerySet[Organization], words: list[str]) -> QuerySet[Organization]:
    for word in words:
        qs = qs.filter(search_text__contains=stem(word))
    return qs


def search(qs: QuerySet[Organization], q: str) -> QuerySet[Organization]:
    """Organizations of ``qs`` that match ``q``, annotated for ``order_by_relevance``.

    An empty query (nothing but punctuation) leaves ``qs`` as it is.
    """
    words = terms(q)
    if not words:
        return qs
    phrase = " ".join(words)
    qs = _postgres_match(qs, words, phrase) if is_postgres() else _fallback_match(qs, words)
    return qs.annotate(
        name_tier=Case(
            When(search_name=phrase, then=Value(3)),
            When(search_name__startswith=phrase, then=Value(2)),
            When(search_name__contains=phrase, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def order_by_relevance(qs: QuerySet[Organization]) -> QuerySet[Organization]:
    """Order what ``search`` returned: exact name first, then the name tiers, then the best scores."""
    if "name_tier" not in qs.query.annotations:
        return qs.order_by("name", "pk")
    by_score = ("-search_score",) if "search_score" in qs.query.annotations else ()
    # The Django plugin checks order_by() against the model's fields; these are search()'s annotations.
    return qs.order_by("-name_tier", *by_score, "name", "pk")  # type: ignore[misc]


def _set_word_similarity(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Every new PostgreSQL connection uses our typo threshold (a placeholder until pg_trgm loads).

    With a connection pool (DATABASE_POOL) Django reports a connection each time it
    takes one from the pool: the setting is made once per server connection.
    """
    if connection.vendor != "postgresql":
        return
    raw = connection.connection
    if getattr(raw, "_citydesk_word_similarity", False):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET pg_trgm.word_similarity_threshold = {WORD_SIMILARITY:.2f}")
    raw._citydesk_word_similarity = True


# --- "did you mean" -------------------------------------------------------------------------


def vocabulary() -> list[str]:
    """The words of the visible catalog's names, categories and active services (cached per catalog version)."""
    words: list[str] | None
    words, version = versioned_get("catalog:search:vocabulary")
    if words is None:
        texts = Organization.objects.visible().values_list("search_name", "search_extra")
        words = sorted({w for row in texts for text in row for w in text.split() if len(w) > 2 and not w.isdigit()})
        versioned_set("catalog:search:vocabulary", words, 3600, version=version)
    return words


def suggestion(q: str) -> str | None:
    """A query close to ``q`` built from the catalog's words (each unknown word replaced), or None."""
    words = terms(q)
    if not words:
        return None
    known = vocabulary()
    known_set = set(known)
    changed = False
    result: list[str] = []
    for word in words:
        if word in known_set or len(word) < 3:
            result.append(word)
            continue
        close = difflib.get_close_matches(word, known, n=1, cutoff=SUGGESTION_CUTOFF)
        if close:
            changed = True
            result.append(close[0])
        else:
            result.append(word)
    return " ".join(result) if changed else None


# --- keeping the columns current -------------------------------------------------------------


def _document(name: str, extra: str, description: str, address: str) -> str:
    return "\n".join(part for part in (normalize(name), extra, normalize(description), normalize(address)) if part)


def organization_search_refresh(*, organization_ids: Iterable[int | str | None] | None = None) -> int:
    """Recompute the search columns of these organizations (every one when None).

    Signals call it after single writes; code that writes in bulk
    (``bulk_create``, ``update``) calls it afterwards. Returns how many
    organizations it looked at.
    """
    if organization_ids is None:
        ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted({int(pk) for pk in organization_ids if pk})
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH])
    return len(ids)


def _refresh_batch(ids: list[int]) -> None:
    category_names: dict[int, list[str]] = {}
    for organization_id, name in (
        Organization.categories.through.objects.filter(organization_id__in=ids)
        .order_by("category__position", "category__name")
        .values_list("organization_id", "category__name")
    ):
        category_names.setdefault(organization_id, []).append(normalize(name))
    service_names: dict[int, set[str]] = {}
    for organization_id, name in Service.objects.filter(organization_id__in=ids, is_active=True).values_list(
        "organization_id", "name"
    ):
        service_names.setdefault(organization_id, set()).add(normalize(name))
    changed: list[Organization] = []
    for organization in Organization.objects.filter(pk__in=ids).only(
        "pk", "name", "description", "address", "search_name", "search_extra", "search_text"
    ):
        extra = "\n".join([*category_names.get(organization.pk, []), *sorted(service_names.get(organization.pk, ()))])
        values = {
            "search_name": normalize(organization.name),
            "search_extra": extra,
            "search_text": _document(organization.name, extra, organization.description, organization.address),
        }
        if any(getattr(organization, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(organization, field, value)
            changed.append(organization)
    if len(changed) == 1:
        organization = changed[0]
        Organization.objects.filter(pk=organization.pk).update(
            search_name=organization.search_name,
            search_extra=organization.search_extra,
            search_text=organization.search_text,
        )
    elif changed:
        Organization.objects.bulk_update(changed, ["search_name", "search_extra", "search_text"], batch_size=BATCH)


TEXT_FIELDS = {"name", "description", "address"}


def _organization_saved(
    sender: type[Organization],
    instance: Organization,
    created: bool,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    if created or update_fields is None or TEXT_FIELDS & set(update_fields):
        organization_search_refresh(organization_ids=[instance.pk])


def _service_changed(sender: type[Service], instance: Service, **kwargs: Any) -> None:
    organization_search_refresh(organization_ids=[instance.organization_id])


def _categories_changed(
    sender: type[Any],
    instance: Organization | Category,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        organization_search_refresh(organization_ids=[instance.pk])
    elif pk_set:
        organization_search_refresh(organization_ids=pk_set)
    else:
        # A category's organizations were cleared: its former organizations are unknown here.
        organization_search_refresh(organization_ids=None)


def _category_named(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    instance._search_renamed = (
        instance.pk is None or not Category.objects.filter(pk=instance.pk, name=instance.name).exists()
    )


def _category_saved(sender: type[Category], instance: Category, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_search_renamed", True):
        organization_search_refresh(organization_ids=_organizations_of(instance))


def _category_deleting(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    instance._search_organizations = _organizations_of(instance)


def _category_deleted(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    organization_search_refresh(organization_ids=getattr(instance, "_search_organizations", []))


def _organizations_of(category: Category) -> list[int]:
    through = Organization.categories.through.objects.filter(category_id=category.pk)
    return list(through.values_list("organization_id", flat=True))


def connect() -> None:
    """Keep the search columns current on every write made through the ORM's save/delete/m2m."""
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="catalog-search-organization")
    post_save.connect(_service_changed, sender=Service, dispatch_uid="catalog-search-service-save")
    post_delete.connect(_service_changed, sender=Service, dispatch_uid="catalog-search-service-delete")
    m2m_changed.connect(
        _categories_changed, sender=Organization.categories.through, dispatch_uid="catalog-search-categories"
    )
    pre_save.connect(_category_named, sender=Category, dispatch_uid="catalog-search-category-name")
    post_save.connect(_category_saved, sender=Category, dispatch_uid="catalog-search-category-save")
    pre_delete.connect(_category_deleting, sender=Category, dispatch_uid="catalog-search-category-deleting")
    post_delete.connect(_category_deleted, sender=Category, dispatch_uid="catalog-search-category-delete")
    connection_created.connect(_set_word_similarity, dispatch_uid="catalog-search-trgm-threshold")
