"""Catalog: categories, organizations and their services (cities live in portal)."""

import re
import zlib
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import City  # re-exported: cities are shared reference data kept in portal

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.models import User


class Tone(models.TextChoices):
    """The palette of category colours (CSS classes ``tone-<value>`` in static/css/site.css).

    Dark enough for white text (WCAG AA for large text): placeholders show an
    organization's initials in white on its category's tone.
    """

    BLUE = "blue", _("blue")
    TEAL = "teal", _("teal")
    GREEN = "green", _("green")
    ORANGE = "orange", _("orange")
    RED = "red", _("red")
    PINK = "pink", _("pink")
    PURPLE = "purple", _("purple")
    INDIGO = "indigo", _("indigo")
    BROWN = "brown", _("brown")
    GRAY = "gray", _("gray")


TONE_RGB: dict[str, tuple[int, int, int]] = {
    Tone.BLUE: (11, 94, 215),
    Tone.TEAL: (15, 118, 110),
    Tone.GREEN: (21, 128, 61),
    Tone.ORANGE: (194, 65, 12),
    Tone.RED: (185, 28, 28),
    Tone.PINK: (190, 24, 93),
    Tone.PURPLE: (109, 40, 217),
    Tone.INDIGO: (67, 56, 202),
    Tone.BROWN: (146, 64, 14),
    Tone.GRAY: (71, 85, 105),
}


def tone_for(key: str) -> str:
    """A stable tone for ``key`` when nobody chose one (the same key always gets the same tone)."""
    return Tone.values[zlib.crc32(key.encode()) % len(Tone.values)]


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    color = models.CharField(
        _("colour"),
        max_length=16,
        choices=Tone.choices,
        blank=True,
        help_text=_("The background of placeholders of its organizations; empty: the parent's colour."),
    )

    # Carried from a pre_ signal to its post_ signal by catalog.search (not columns).
    _search_renamed: bool
    _search_organizations: list[int]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tone(self) -> str:
        """Its colour, else its parent's, else a stable one picked from the slug."""
        if self.color:
            return self.color
        parent = self.parent
        if parent is not None and parent.color:
            return parent.color
        return tone_for(self.slug or self.name)


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def visible(self, *, now: datetime | None = None) -> "OrganizationQuerySet":
        """The public catalog: published, owner not blocked, listing paid up.

        The one definition used by pages, the API, the sitemap and mailing audiences.
        """
        now = now or timezone.now()
        return self.filter(
            status=Organization.Status.PUBLISHED,
            owner__is_blocked=False,
            listed_until__gt=now,
        )

    def owned_by(self, user: "User | AnonymousUser | None") -> "OrganizationQuerySet":
        """Everything ``user`` owns, whatever its status (the owner's pages and API)."""
        if not user or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


_OrganizationManagerBase = models.Manager.from_queryset(OrganizationQuerySet)


class OrganizationManager(_OrganizationManagerBase["Organization"]):
    def get_queryset(self) -> models.QuerySet["Organization"]:
        # The search columns are for the database only: never load them (they are large).
        return super().get_queryset().defer("search_vector", "search_text", "search_extra")


class Organization(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        HIDDEN = "hidden", _("hidden")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="organizations"
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200)
    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="organizations")
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="organizations"
    )
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    website = models.URLField(_("website"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/%Y/%m/", blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    listed_until = models.DateTimeField(_("listed until"), null=True, blank=True, db_index=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True, unique=True)
    # Set by staff when they hide an organization in moderation: the owner cannot publish it again.
    hidden_by_staff = models.BooleanField(_("hidden by moderators"), default=False)
    moderation_note = models.TextField(_("moderation note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Search columns (catalog.search keeps them; bulk writers call organization_search_refresh):
    # the name, the names of its categories and active services, and everything
    # together, all normalised (lower case, ё → е, punctuation to spaces). The first
    # two have GIN trigram indexes on PostgreSQL (migration 0004) for typos.
    search_name = models.CharField(max_length=200, blank=True, default="", editable=False)
    search_extra = models.TextField(blank=True, default="", editable=False)
    search_text = models.TextField(blank=True, default="", editable=False)
    # Maintained by a PostgreSQL trigger from name (weight A), categories and services
    # (B), description (C) and address (D) with the "russian" configuration and
    # GIN-indexed (migrations 0002 and 0004); always NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    # The average of its visible reviews and their number; written only by
    # catalog.services.organization_rating_set (the reviews live in bookings).
    rating = models.DecimalField(_("rating"), max_digits=3, decimal_places=2, null=True, blank=True, editable=False)
    reviews_count = models.PositiveIntegerField(_("reviews"), default=0, editable=False)

    objects = OrganizationManager()

    # What a catalog card shows, set by the views that list cards (catalog.selectors.card_min_price, card_cover).
    min_price: Decimal | None
    cover: "OrganizationPhoto | None"

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["city", "slug"], name="organization_unique_slug_per_city"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "hidden"]), name="organization_status_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="organization_name_not_empty"),
            models.CheckConstraint(
                condition=(Q(rating__isnull=True) & Q(reviews_count=0))
                | (Q(rating__gte=1) & Q(rating__lte=5) & Q(reviews_count__gt=0)),
                name="organization_rating_valid",
            ),
        ]
        indexes = [
            # Covers the visibility test (with the owner to join), so counting the public
            # catalog is an index-only scan on PostgreSQL.
            models.Index(fields=["status", "listed_until"], include=["owner_id"], name="organization_visible_idx"),
            models.Index(fields=["city", "status", "listed_until"], name="organization_city_visible_idx"),
            models.Index(fields=["name", "id"], name="organization_name_order_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:detail", kwargs={"pk": self.pk})

    @property
    def missing_for_publishing(self) -> list[str]:
        """Names of the fields an owner must fill before publishing (empty when ready).

        The rule "published must be complete" that catalog.services enforces.
        """
        # Slicing .all() uses prefetched categories when there are any (no query per card).
        has_categories = self.pk is not None and bool(self.categories.all()[:1])
        return missing_for_publishing(
            {f: getattr(self, f) for f in ("name", "description", "address", "phone", "website")},
            has_categories=has_categories,
        )

    @property
    def is_listed(self) -> bool:
        return bool(self.listed_until and self.listed_until > timezone.now())

    @property
    def initials(self) -> str:
        """Up to two capital letters for a placeholder: «Борода и Ко» → «БК», «Салон «Мята»» → «СМ»."""
        words = [w for w in re.findall(r"[^\W_]+", self.name) if len(w) > 1] or re.findall(r"[^\W_]+", self.name)
        return "".join(w[0] for w in words[:2]).upper() or "•"

    @property
    def tone(self) -> str:
        """The placeholder colour: its first category's (categories prefetched in order), else from its name."""
        categories = list(self.categories.all()[:1]) if self.pk else []
        return categories[0].tone if categories else tone_for(self.name)


def missing_for_publishing(values: dict, *, has_categories: bool) -> list[str]:
    """The fields a published organization needs that ``values`` leave empty (``[]`` when complete)."""
    missing = [f for f in ("name", "description", "address") if not values.get(f)]
    if not (values.get("phone") or values.get("website")):
        missing.append("phone")
    if not has_categories:
        missing.append("categories")
    return missing


def photo_upload_to(instance, filename: str) -> str:
    return f"organizations/{instance.organization_id}/{filename}"


class OrganizationPhoto(models.Model):
    """One picture of an organization's ordered gallery (lowest position first)."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="photos"
    )
    # Dimensions are stored by the upload service (not width_field/height_field, which
    # would open the file from storage each time a row is loaded without them).
    image = models.ImageField(_("image"), upload_to=photo_upload_to)
    width = models.PositiveIntegerField(_("width"), default=0, editable=False)
    height = models.PositiveIntegerField(_("height"), default=0, editable=False)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        # organization_id, not organization: ordering by the relation would join the
        # organizations to sort by their name (their Meta.ordering) in every gallery query.
        ordering = ["organization_id", "position", "pk"]
        indexes = [models.Index(fields=["organization", "position"], name="photo_gallery_order_idx")]

    def __str__(self) -> str:
        return self.caption or f"{self.organization} #{self.position}"


class Service(models.Model):
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["organization_id", "name"]  # not "organization": see OrganizationPhoto
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="service_duration_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One CSV import of organizations: its options, progress and row errors."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(_("file"), upload_to="catalog_imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")) | Q(total_rows=0),
                name="importjob_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename or self.file.name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))
