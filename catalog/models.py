"""Catalog: categories, organizations and their services (cities live in portal)."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import City  # re-exported: cities are shared reference data kept in portal


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationQuerySet(models.QuerySet):
    def visible(self, *, now=None):
        """The public catalog: published, owner not blocked, listing paid up.

        The one definition used by pages, the API, the sitemap and mailing audiences.
        """
        now = now or timezone.now()
        return self.filter(
            status=Organization.Status.PUBLISHED,
            owner__is_blocked=False,
            listed_until__gt=now,
        )

    def owned_by(self, user):
        """Everything ``user`` owns, whatever its status (the owner's pages and API)."""
        if not user or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class OrganizationManager(models.Manager.from_queryset(OrganizationQuerySet)):
    def get_queryset(self):
        # The search vector is for the database only: never load it (it is large).
        return super().get_queryset().defer("search_vector")


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
    # Maintained by a PostgreSQL trigger from name (weight A), description (B) and
    # address (C) with the "russian" configuration and GIN-indexed (migration 0003);
    # always NULL on SQLite, where search falls back to icontains.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = OrganizationManager()

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
        ordering = ["organization", "position", "pk"]
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
        ordering = ["organization", "name"]
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
