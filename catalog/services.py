"""Catalog services (writes with business rules).

Who may manage an organization is ``catalog.selectors.organization_can_manage``
(its owner, and staff on any). Somebody else's organization is reported as not
found, never as forbidden, so its existence does not leak.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Literal

from django.db import transaction
from django.db.models import Max, ProtectedError
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from catalog.cache import catalog_changed
from catalog.images import LOGO_MAX_SIDE, validate_and_reencode
from catalog.models import Category, City, Organization, OrganizationPhoto, Service
from catalog.selectors import organizations_managed_by
from catalog.slugs import make_slug
from catalog.validators import normalize_website
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationError
from portal.models import User
from portal.phones import phone_normalize
from portal.services import actor_ensure_active

MAX_PHOTOS = 20
ORGANIZATION_FIELDS = ("name", "city", "description", "address", "phone", "website")
# Fields only staff change (the back office): the moderators' note and the CSV import's key.
ORGANIZATION_STAFF_FIELDS = ("moderation_note", "external_id")


@transaction.atomic
def listing_extend(*, organization: Organization, until: datetime) -> Organization:
    """Keep ``organization`` listed until ``until``; the one way billing changes it.

    The listing never moves backwards: an earlier ``until`` leaves it as is.
    """
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.listed_until is None or until > organization.listed_until:
        organization.listed_until = until
        organization.save(update_fields=["listed_until", "updated_at"])
    return organization


@transaction.atomic
def organization_rating_set(*, organization: Organization | int, rating: Decimal | None, reviews_count: int) -> None:
    """Store an organization's average rating and number of visible reviews.

    The reviews live in bookings, which computes the figures (with this
    organization's row locked) and hands them here: the one way they change.
    """
    pk = organization.pk if isinstance(organization, Organization) else organization
    if reviews_count < 0 or (reviews_count == 0) != (rating is None):
        raise ValidationError(_("A rating needs reviews, and reviews need a rating."), code="invalid")
    if rating is not None:
        rating = Decimal(rating).quantize(Decimal("0.01"))
    Organization.objects.select_for_update().filter(pk=pk).update(rating=rating, reviews_count=reviews_count)
    # The cards show the rating: the cached lists must go (after commit, like every catalog change).
    catalog_changed()
    transaction.on_commit(catalog_changed)


# --- helpers --------------------------------------------------------------------


def _lock_own(organization: Organization | int, by: User) -> Organization:
    """Lock and return the organization if ``by`` may manage it; NotFound otherwise."""
    actor_ensure_active(by)
    pk = organization.pk if isinstance(organization, Organization) else organization
    try:
        return organizations_managed_by(user=by).select_for_update().get(pk=pk)
    except Organization.DoesNotExist:
        raise NotFound(_("Organization not found."))


def organization_slug(*, name: str, city: City, exclude_pk: int | None = None) -> str:
    """A slug for ``name`` that is free in ``city`` (``name``, ``name-2``, …)."""
    base = make_slug(name)
    same_start = Organization.objects.filter(city=city, slug__startswith=base)
    if exclude_pk is not None:
        same_start = same_start.exclude(pk=exclude_pk)
    taken = set(same_start.values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def organization_fields_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise and validate organization fields; raise ValidationError with a field map.

    The services run it on every write; a form that must show the errors next to
    its fields before saving (the admin's) runs it in its ``clean()``.
    """
    cleaned = dict(data)
    errors: dict[str, list[str]] = {}
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = [_("Enter the name.")]
    for field, normalize in (("phone", phone_normalize), ("website", normalize_website)):
        if field in cleaned:
            try:
                cleaned[field] = normalize(cleaned[field] or "")
            except ValidationError as exc:
                errors[field] = [exc.message]
    for field in ("description", "address"):
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    if "city" in cleaned and not isinstance(cleaned["city"], City):
        errors["city"] = [_("Choose a city.")]
    if errors:
        raise ValidationError(_("Check the highlighted fields."), code="invalid", extra={"errors": errors})
    return cleaned


def organization_missing_fields(*, organization: Organization) -> list[str]:
    """The fields an owner must fill before publishing; empty when it can be published."""
    return organization.missing_for_publishing


# --- organizations ----------------------------------------------------------------


@transaction.atomic
def organization_create(
    *,
    owner: User,
    name: str,
    city: City,
    categories: list[Category] | None = None,
    description: str = "",
    address: str = "",
    phone: str = "",
    website: str = "",
    logo: IO[bytes] | None = None,
) -> Organization:
    """Create a draft organization owned by ``owner`` (it is published separately)."""
    actor_ensure_active(owner)
    data = organization_fields_clean(
        {"name": name, "city": city, "description": description, "address": address, "phone": phone,
         "website": website}
    )  # fmt: skip
    organization = Organization(owner=owner, status=Organization.Status.DRAFT, **data)
    organization.slug = organization_slug(name=data["name"], city=city)
    if logo:
        organization.logo = validate_and_reencode(logo, max_side=LOGO_MAX_SIDE)
    organization.save()
    if categories:
        organization.categories.set(categories)
    return organization


@transaction.atomic
def organization_update(
    *,
    organization: Organization | int,
    by: User,
    categories: Iterable[Category] | None = None,
    logo: IO[bytes] | Literal[False] | None = None,
    **fields: Any,
) -> Organization:
    """Change an organization's details; a new name or city gives it a new slug.

    ``logo``: a new upload, ``False`` to remove the logo, None to keep it.
    Staff may also set ORGANIZATION_STAFF_FIELDS. Unknown fields are refused; a
    published organization must stay complete (ValidationError ``incomplete``).
    """
    organization = _lock_own(organization, by)
    allowed = set(ORGANIZATION_FIELDS) | (set(ORGANIZATION_STAFF_FIELDS) if by.is_staff else set())
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    staff_data = {f: fields.pop(f) for f in ORGANIZATION_STAFF_FIELDS if f in fields}
    if "external_id" in staff_data:
        staff_data["external_id"] = (staff_data["external_id"] or "").strip() or None
    if "moderation_note" in staff_data:
        staff_data["moderation_note"] = (staff_data["moderation_note"] or "").strip()
    data = {**organization_fields_clean(fields), **staff_data}
    city_changed = "city" in data and data["city"].pk != organization.city_id
    name_changed = "name" in data and data["name"] != organization.name
    for field, value in data.items():
        setattr(organization, field, value)
    if city_changed or name_changed:
        organization.slug = organization_slug(
            name=organization.name, city=organization.city, exclude_pk=organization.pk
        )
    if logo:
        organization.logo = validate_and_reencode(logo, max_side=LOGO_MAX_SIDE)
    elif logo is False and organization.logo:
        _delete_on_commit(organization.logo)
        organization.logo = ""
    organization.save()
    if categories is not None:
        organization.categories.set(categories)
    if organization.status == Organization.Status.PUBLISHED and organization_missing_fields(organization=organization):
        raise ValidationError(
            _("A published organization needs a description, an address, a phone or website and a category."),
            code="incomplete",
        )
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization | int, by: User) -> None:
    """Delete an organization with its services and photos."""
    organization = _lock_own(organization, by)
    try:
        organization.delete()
    except ProtectedError:
        raise Conflict(_("The organization has bookings; hide it instead of deleting."), code="has_bookings")


@transaction.atomic
def organization_publish(*, organization: Organization | int, by: User) -> Organization:
    """Publish an organization once its required fields are filled.

    Owners cannot re-publish what moderators hid; staff publishing clears that mark.
    Being visible in the catalog also needs a paid listing (``listed_until``).
    """
    organization = _lock_own(organization, by)
    if organization.hidden_by_staff and not by.is_staff:
        raise PermissionDenied(_("Moderators hid this organization; contact support."), code="hidden_by_staff")
    missing = organization_missing_fields(organization=organization)
    if missing:
        raise ValidationError(
            _("Fill in before publishing: %s.") % ", ".join(missing), code="incomplete", extra={"missing": missing}
        )
    if organization.status != Organization.Status.PUBLISHED or organization.hidden_by_staff:
        organization.status = Organization.Status.PUBLISHED
        organization.hidden_by_staff = False
        organization.save(update_fields=["status", "hidden_by_staff", "updated_at"])
    return organization


@transaction.atomic
def organization_hide(*, organization: Organization | int, by: User, note: str = "") -> Organization:
    """Hide an organization from the catalog (owner, or staff in moderation)."""
    organization = _lock_own(organization, by)
    organization.status = Organization.Status.HIDDEN
    fields = ["status", "updated_at"]
    if by.is_staff and organization.owner_id != by.pk:
        organization.hidden_by_staff = True
        organization.moderation_note = note or organization.moderation_note
        fields += ["hidden_by_staff", "moderation_note"]
    organization.save(update_fields=fields)
    return organization


@transaction.atomic
def organizations_hide_for_owner(*, owner: User) -> int:
    """Hide every organization of ``owner`` whose account is being deleted; returns how many changed.

    Called for ``portal.signals.user_erasing``: the organizations leave the
    catalog but stay (bookings, subscriptions and the ledger refer to them).
    No actor check: the owner may be blocked, and staff may be erasing the account.
    """
    organizations = (
        Organization.objects.select_for_update()
        .filter(owner=owner)
        .exclude(status=Organization.Status.HIDDEN)
        .order_by("pk")
    )
    count = 0
    for organization in organizations:
        organization.status = Organization.Status.HIDDEN
        organization.save(update_fields=["status", "updated_at"])
        count += 1
    return count


# --- photos ------------------------------------------------------------------------


@transaction.atomic
def photo_add(
    *, organization: Organization | int, by: User, image: IO[bytes] | None, caption: str = ""
) -> OrganizationPhoto:
    """Validate (Pillow) and append a photo at the end of the gallery."""
    organization = _lock_own(organization, by)
    if organization.photos.count() >= MAX_PHOTOS:
        raise ValidationError(_("At most %(n)s photos per organization.") % {"n": MAX_PHOTOS}, code="too_many_photos")
    clean = validate_and_reencode(image)
    last = organization.photos.aggregate(m=Max("position"))["m"]
    photo = OrganizationPhoto(organization=organization, caption=(caption or "").strip()[:200])
    photo.position = 0 if last is None else last + 1
    photo.width, photo.height = clean.image_size
    photo.image.save(clean.name, clean, save=False)
    photo.save()
    return photo


def _own_photo(photo_id: int, organization: Organization | int, by: User) -> tuple[Organization, OrganizationPhoto]:
    organization = _lock_own(organization, by)
    try:
        return organization, organization.photos.select_for_update().get(pk=photo_id)
    except OrganizationPhoto.DoesNotExist:
        raise NotFound(_("Photo not found."))


@transaction.atomic
def photo_delete(*, organization: Organization | int, photo_id: int, by: User) -> None:
    _organization, photo = _own_photo(photo_id, organization, by)
    _delete_on_commit(photo.image)
    photo.delete()


def _delete_on_commit(file: FieldFile) -> None:
    """Delete ``file`` from its storage once the transaction commits (a rollback keeps it)."""
    storage, name = file.storage, file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def photo_caption_set(*, organization: Organization | int, photo_id: int, by: User, caption: str) -> OrganizationPhoto:
    """Change a photo's caption (200 characters at most)."""
    _organization, photo = _own_photo(photo_id, organization, by)
    photo.caption = (caption or "").strip()[:200]
    photo.save(update_fields=["caption"])
    return photo


@transaction.atomic
def photo_move(*, organization: Organization | int, photo_id: int, by: User, position: int) -> OrganizationPhoto:
    """Move a photo to ``position`` (0 = first) and renumber the gallery 0..n-1."""
    organization, photo = _own_photo(photo_id, organization, by)
    photos = [p for p in organization.photos.select_for_update().order_by("position", "pk") if p.pk != photo.pk]
    position = max(0, min(int(position), len(photos)))
    photos.insert(position, photo)
    for index, item in enumerate(photos):
        if item.position != index:
            item.position = index
            item.save(update_fields=["position"])
    photo.refresh_from_db()
    return photo


# --- services ------------------------------------------------------------------------

SERVICE_FIELDS = ("name", "description", "price", "duration_minutes", "is_active")


def service_fields_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise and validate service fields (name, price, duration); ValidationError with a field map."""
    errors: dict[str, list[str]] = {}
    cleaned = dict(data)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = [_("Enter the name.")]
    if "price" in cleaned:
        try:
            price = Decimal(str(cleaned["price"])).quantize(Decimal("0.01"))
        except Exception:
            price = None
        if price is None or price < 0 or price >= Decimal("100000000"):
            errors["price"] = [_("Enter a price from 0 ₽.")]
        cleaned["price"] = price
    if "duration_minutes" in cleaned:
        try:
            minutes = int(cleaned["duration_minutes"])
        except (TypeError, ValueError):
            minutes = 0
        if not 0 < minutes <= 24 * 60:
            errors["duration_minutes"] = [_("Enter a duration from 1 to 1440 minutes.")]
        cleaned["duration_minutes"] = minutes
    if errors:
        raise ValidationError(_("Check the highlighted fields."), code="invalid", extra={"errors": errors})
    return cleaned


@transaction.atomic
def service_create(
    *,
    organization: Organization | int,
    by: User,
    name: str,
    price: Decimal | int | float | str,
    duration_minutes: int,
    description: str = "",
    is_active: bool = True,
) -> Service:
    """Add a service (name, price in RUB, duration) to the owner's organization."""
    organization = _lock_own(organization, by)
    data = service_fields_clean(
        {"name": name, "price": price, "duration_minutes": duration_minutes, "description": description or "",
         "is_active": bool(is_active)}
    )  # fmt: skip
    return Service.objects.create(organization=organization, **data)


def _own_service(service_id: int, by: User) -> Service:
    actor_ensure_active(by)
    qs = (
        Service.objects.select_for_update()
        .select_related("organization")
        .filter(organization__in=organizations_managed_by(user=by))
    )
    try:
        return qs.get(pk=service_id)
    except Service.DoesNotExist:
        raise NotFound(_("Service not found."))


@transaction.atomic
def service_update(*, service: Service | int, by: User, **fields: Any) -> Service:
    service = _own_service(service.pk if isinstance(service, Service) else service, by)
    unknown = set(fields) - set(SERVICE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    for field, value in service_fields_clean(fields).items():
        setattr(service, field, value)
    service.save()
    return service


@transaction.atomic
def service_delete(*, service: Service | int, by: User) -> bool:
    """Delete a service; one that bookings refer to is deactivated instead. Returns True if deleted."""
    service = _own_service(service.pk if isinstance(service, Service) else service, by)
    try:
        with transaction.atomic():
            service.delete()
        return True
    except ProtectedError:
        service.is_active = False
        service.save(update_fields=["is_active"])
        return False
