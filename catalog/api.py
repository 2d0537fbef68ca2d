"""Catalog API (/api/v1/): cities, categories, organizations, photos, services.

Public reads show the visible catalog only. Owners manage their own
organizations; anybody else's organization answers 404 on every write and on
reads of what is not visible. ``GET /organizations/mine/`` lists the owner's
organizations in every status.
"""

from collections.abc import Callable
from typing import Any, cast

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound as DRFNotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.cache import cache_seconds, list_cache_key, versioned_get, versioned_set
from catalog.models import Category, City, Organization, OrganizationPhoto, Service
from catalog.validators import normalize_website
from portal.api_fields import DecimalStringField, StrictModelSerializer, StrictSerializer
from portal.api_query import query_validate
from portal.errors import DomainError
from portal.phones import PhoneSerializerField
from portal.throttling import ScopedThrottle

# --- serializers -------------------------------------------------------------------------


class CitySerializer(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["id", "name", "slug", "timezone"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "position"]


class CityBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["id", "name", "slug"]


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class PhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrganizationPhoto
        fields = ["id", "image", "width", "height", "caption", "position"]
        read_only_fields = ["id", "image", "width", "height"]


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.ImageField()
    caption = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PhotoMoveSerializer(StrictSerializer):
    position = serializers.IntegerField(min_value=0)


class ServiceSerializer(StrictModelSerializer):
    price = DecimalStringField(max_digits=10, decimal_places=2, min_value=0)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)

    class Meta:
        model = Service
        fields = ["id", "name", "description", "price", "duration_minutes", "is_active"]
        read_only_fields = ["id"]


class OrganizationCardSerializer(serializers.ModelSerializer):
    """One organization in the public list."""

    city = CityBriefSerializer()
    categories = CategoryBriefSerializer(many=True)
    min_price = serializers.SerializerMethodField()
    cover = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    rating = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text='Average of the visible reviews, two decimals ("4.67"), or null without reviews',
    )
    reviews_count = serializers.IntegerField(read_only=True)
    is_verified = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "city",
            "categories",
            "address",
            "phone",
            "website",
            "min_price",
            "cover",
            "url",
            "rating",
            "reviews_count",
            "is_verified",
        ]

    def get_min_price(self, obj) -> str | None:
        price = selectors.card_min_price(obj)
        return None if price is None else f"{price:.2f}"

    def get_cover(self, obj) -> str | None:
        photo = selectors.card_cover(obj)
        return photo.image.url if photo else None

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()

    def get_is_verified(self, obj) -> bool:
        """The owner was verified by staff ("проверено")."""
        return bool(obj.owner.is_verified)


def _detail_url_maker():
    """``Organization.get_absolute_url`` for many ids: reversed once, then formatted (a
    ``reverse()`` per card would cost more than building the card)."""
    sentinel = "9" * 18  # the longest id the <id:pk> converter matches: appears nowhere else
    head, _, tail = reverse("catalog:detail", kwargs={"pk": sentinel}).partition(sentinel)
    return lambda pk: f"{head}{pk}{tail}"


def organization_cards_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``OrganizationCardSerializer`` makes of these organizations, built from the rows of
    ``selectors.organization_cards`` (the same keys in the same order, byte for byte).

    The public list builds its page with this; the serializer stays the schema of a card
    (and the base of the detail serializers).
    """
    url = _detail_url_maker()
    storage = OrganizationPhoto._meta.get_field("image").storage
    cards = []
    for row in rows:
        price, cover, rating = row["min_price"], row["cover"], row["rating"]
        cards.append(
            {
                "id": row["id"],
                "name": row["name"],
                "slug": row["slug"],
                "city": {"id": row["city_id"], "name": row["city_name"], "slug": row["city_slug"]},
                "categories": [{"id": pk, "name": name, "slug": slug} for pk, name, slug in row["category_rows"] or ()],
                "address": row["address"],
                "phone": row["phone"],
                "website": row["website"],
                "min_price": None if price is None else f"{price:.2f}",
                "cover": storage.url(cover) if cover else None,
                "url": url(row["id"]),
                # numeric(3, 2): two decimals, as the serializer's DecimalField writes them.
                "rating": None if rating is None else f"{rating:.2f}",
                "reviews_count": row["reviews_count"],
                "is_verified": bool(row["is_verified"]),
            }
        )
    return cards


class OrganizationDetailSerializer(OrganizationCardSerializer):
    """An organization's page: gallery, active services, contacts."""

    photos = serializers.SerializerMethodField()
    services = serializers.SerializerMethodField()
    logo = serializers.ImageField(read_only=True)

    class Meta(OrganizationCardSerializer.Meta):
        fields = [*OrganizationCardSerializer.Meta.fields, "description", "logo", "photos", "services"]

    def get_photos(self, obj) -> list[dict]:
        gallery = getattr(obj, "gallery", None)
        if gallery is None:
            gallery = list(obj.photos.order_by("position", "pk"))
        return list(PhotoSerializer(gallery, many=True, context=self.context).data)

    def get_services(self, obj) -> list[dict]:
        active = getattr(obj, "active_services", None)
        if active is None:
            active = list(obj.services.filter(is_active=True).order_by("price", "name"))
        return list(ServiceSerializer(active, many=True).data)


class OwnerOrganizationSerializer(OrganizationDetailSerializer):
    """The owner's view: adds the status and the listing state."""

    is_listed = serializers.BooleanField(read_only=True)
    missing_for_publishing = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(OrganizationDetailSerializer.Meta):
        fields = [
            *OrganizationDetailSerializer.Meta.fields,
            "status",
            "listed_until",
            "is_listed",
            "hidden_by_staff",
            "missing_for_publishing",
            "created_at",
            "updated_at",
        ]


class OrganizationWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    city = serializers.PrimaryKeyRelatedField(queryset=City.objects.all())
    categories = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), many=True, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    phone = PhoneSerializerField()
    website = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("Enter the name."))
        return value

    def validate_website(self, value):
        try:
            return normalize_website(value)
        except DomainError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc


def _domain_to_drf(exc: DomainError):
    """Field errors collected by a service become DRF's field map; others go to the handler."""
    if "errors" in exc.extra:
        return DRFValidationError(exc.extra["errors"])
    return exc


# --- cities and categories -------------------------------------------------------------------


class CityListView(generics.ListAPIView):
    """Cities of the catalog, by name."""

    serializer_class = CitySerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        return selectors.cities()


class CategoryListView(generics.ListAPIView):
    """Categories (``parent`` is the id of the parent category or null), in display order."""

    serializer_class = CategorySerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        return selectors.categories()


# --- organizations ---------------------------------------------------------------------------


class OrganizationListParamsSerializer(serializers.Serializer):
    """The public list's query parameters (a NUL character or an unknown ordering is a 400)."""

    city = serializers.CharField(required=False, allow_blank=True, help_text="City slug or id")
    category = serializers.CharField(
        required=False, allow_blank=True, help_text="Category slug or id (subcategories included)"
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Full-text search (Russian morphology on PostgreSQL)",
    )
    ordering = serializers.ChoiceField(
        choices=list(selectors.ORDERINGS),
        required=False,
        allow_blank=True,
        error_messages={"invalid_choice": _("Unknown ordering.")},
        help_text="Default: relevance when searching, name otherwise",
    )
    free_today = serializers.BooleanField(required=False, default=False)


@extend_schema_view(
    get=extend_schema(parameters=[OrganizationListParamsSerializer], responses=OrganizationCardSerializer(many=True)),
    post=extend_schema(request=OrganizationWriteSerializer, responses={201: OwnerOrganizationSerializer}),
)
class OrganizationListView(generics.ListCreateAPIView):
    """The public catalog (visible organizations; cached briefly) and creating a draft organization."""

    serializer_class = OrganizationCardSerializer

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), *super().get_permissions()]
        return [AllowAny(), *super().get_permissions()]

    def get_queryset(self):
        params = query_validate(self.request, OrganizationListParamsSerializer)
        filters = {k: v or None for k, v in params.items() if k != "free_today"}
        return selectors.organization_list(**filters, free_today=params.get("free_today", False), cards=False)

    _cache_slot = None

    def list(self, request, *args, **kwargs):
        # The public list is the same for everybody: answer from the cache when we can.
        if cache_seconds() > 0 and getattr(request.accepted_renderer, "format", "") == "json":
            items = sorted(request.query_params.lists())
            key = list_cache_key("api", f"{request.get_host()}|{items}|{request.LANGUAGE_CODE}")
            body, version = versioned_get(key)
            if body is not None:
                return HttpResponse(body, content_type="application/json")
            self._cache_slot = (key, version)
        # Rows, not model instances: the JSON of each card is built from them (organization_cards_json).
        # CardRows pages like a queryset (count() and slices), which the DRF stubs do not know.
        page = self.paginate_queryset(cast(Any, selectors.CardRows(self.filter_queryset(self.get_queryset()))))
        return self.get_paginated_response(organization_cards_json(cast(list[dict[str, Any]], page)))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._cache_slot and response.status_code == 200 and isinstance(response, Response):
            response.render()
            key, version = self._cache_slot
            versioned_set(key, response.content, cache_seconds(), version=version)
        return response

    def create(self, request, *args, **kwargs):
        serializer = OrganizationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            organization = services.organization_create(owner=request.user, **serializer.validated_data)
        except DomainError as exc:
            raise _domain_to_drf(exc)
        organization = _owner_queryset(request.user).get(pk=organization.pk)
        return Response(OwnerOrganizationSerializer(organization, context={"request": request}).data, status=201)


def _owner_queryset(user, *, managed: bool = False):
    """The user's own organizations, or (``managed``) all they may manage, ready for the owner's serializer."""
    base = selectors.organizations_managed_by(user=user) if managed else Organization.objects.owned_by(user)
    return base.select_related("city", "owner").prefetch_related(
        Prefetch("categories", queryset=Category.objects.order_by("position", "name")),
        Prefetch("photos", queryset=OrganizationPhoto.objects.order_by("position", "pk"), to_attr="gallery"),
        Prefetch("services", queryset=Service.objects.filter(is_active=True).order_by("price", "name"),
                 to_attr="active_services"),
        Prefetch("services", queryset=Service.objects.filter(is_active=True).only("id", "organization_id", "price"),
                 to_attr="active_service_prices"),
    )  # fmt: skip


class MyOrganizationListView(generics.ListAPIView):
    """The requesting owner's organizations in every status, with their listing state."""

    serializer_class = OwnerOrganizationSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return _owner_queryset(self.request.user).order_by("-created_at", "pk")


@extend_schema_view(
    get=extend_schema(responses=OrganizationDetailSerializer),
    put=extend_schema(request=OrganizationWriteSerializer, responses=OwnerOrganizationSerializer),
    patch=extend_schema(request=OrganizationWriteSerializer, responses=OwnerOrganizationSerializer),
    delete=extend_schema(
        responses={204: None, 409: OpenApiResponse(description="has_bookings: hide the organization instead")}
    ),
)
class OrganizationDetailView(generics.RetrieveUpdateDestroyAPIView):
    """A visible organization (or one of your own); owners update and delete their own."""

    serializer_class = OrganizationDetailSerializer

    def get_queryset(self):
        if self.request.method == "GET":
            return selectors.organization_detail_queryset(user=self.request.user)
        return _owner_queryset(self.request.user, managed=True)

    def get_serializer_class(self):
        obj = getattr(self, "_object", None)
        if obj is not None and selectors.organization_can_manage(user=self.request.user, organization=obj):
            return OwnerOrganizationSerializer
        return OrganizationDetailSerializer

    def get_object(self):
        self._object = super().get_object()
        return self._object

    def update(self, request, *args, **kwargs):
        organization = self.get_object()
        partial = kwargs.get("partial", False)
        serializer = OrganizationWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            services.organization_update(organization=organization, by=request.user, **serializer.validated_data)
        except DomainError as exc:
            raise _domain_to_drf(exc)
        organization = _owner_queryset(request.user, managed=True).get(pk=organization.pk)
        return Response(OwnerOrganizationSerializer(organization, context={"request": request}).data)

    def destroy(self, request, *args, **kwargs):
        organization = self.get_object()
        services.organization_delete(organization=organization, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _OwnerActionView(APIView):
    permission_classes = [IsAuthenticated]
    service: Callable[..., Organization]  # each view's service (a staticmethod)

    @extend_schema(request=None, responses=OwnerOrganizationSerializer)
    def post(self, request, pk: int):
        organization = type(self).service(organization=pk, by=_owner_only(request.user, pk))
        organization = _owner_queryset(request.user, managed=True).get(pk=organization.pk)
        return Response(OwnerOrganizationSerializer(organization, context={"request": request}).data)


def _owner_only(user, pk: int):
    """``user`` when they may manage organization ``pk`` (``organization_can_manage``); a 404 otherwise."""
    if not selectors.organizations_managed_by(user=user).filter(pk=pk).exists():
        raise DRFNotFound()
    return user


class OrganizationPublishView(_OwnerActionView):
    """Publish your organization (needs description, address, phone or website, a category)."""

    service = staticmethod(services.organization_publish)


class OrganizationHideView(_OwnerActionView):
    """Hide your organization from the catalog."""

    service = staticmethod(services.organization_hide)


class OrganizationPhotoListView(APIView):
    """Upload a photo to your organization's gallery (JPEG/PNG/WebP, appended at the end)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "upload"

    @extend_schema(request=PhotoUploadSerializer, responses={201: PhotoSerializer})
    def post(self, request, pk: int):
        serializer = PhotoUploadSerializer(data=request.data)
        if not serializer.is_valid():
            if "image" in serializer.errors:
                raise DRFValidationError({"image": [_("Upload a JPEG, PNG or WebP image.")]})
            raise DRFValidationError(serializer.errors)
        try:
            photo = services.photo_add(
                organization=pk,
                by=_owner_only(request.user, pk),
                image=serializer.validated_data["image"],
                caption=serializer.validated_data.get("caption", ""),
            )
        except DomainError as exc:
            if exc.code == "bad_image":
                raise DRFValidationError({"image": [exc.message]})
            raise
        return Response(PhotoSerializer(photo, context={"request": request}).data, status=201)


class OrganizationPhotoDetailView(APIView):
    """Move (``position``) or delete a photo of your organization."""

    permission_classes = [IsAuthenticated]
    schema_patch_is_complete = True  # PATCH moves the photo: position is required

    @extend_schema(request=PhotoMoveSerializer, responses=PhotoSerializer)
    def patch(self, request, pk: int, photo_id: int):
        serializer = PhotoMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photo = services.photo_move(
            organization=pk, photo_id=photo_id, by=_owner_only(request.user, pk), **serializer.validated_data
        )
        return Response(PhotoSerializer(photo, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int, photo_id: int):
        services.photo_delete(organization=pk, photo_id=photo_id, by=_owner_only(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(responses=ServiceSerializer(many=True)),
    post=extend_schema(request=ServiceSerializer, responses={201: ServiceSerializer}),
)
class OrganizationServiceListView(generics.ListCreateAPIView):
    """Services of a visible organization (active ones) or of your own (all); owners add services."""

    serializer_class = ServiceSerializer

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), *super().get_permissions()]
        return [AllowAny(), *super().get_permissions()]

    def get_queryset(self):
        user = self.request.user
        organization = selectors.organization_detail_queryset(user=user).filter(pk=self.kwargs["pk"]).first()
        if organization is None:
            raise DRFNotFound()
        qs = Service.objects.filter(organization=organization).order_by("price", "name", "pk")
        if not selectors.organization_can_manage(user=user, organization=organization):
            qs = qs.filter(is_active=True)
        return qs

    def create(self, request, *args, **kwargs):
        serializer = ServiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            service = services.service_create(
                organization=self.kwargs["pk"],
                by=_owner_only(request.user, self.kwargs["pk"]),
                **serializer.validated_data,
            )
        except DomainError as exc:
            raise _domain_to_drf(exc)
        return Response(ServiceSerializer(service).data, status=201)


@extend_schema_view(
    patch=extend_schema(request=ServiceSerializer, responses=ServiceSerializer),
    delete=extend_schema(responses={204: None}),
)
class OrganizationServiceDetailView(APIView):
    """Change or delete a service of your organization (one with bookings is deactivated)."""

    permission_classes = [IsAuthenticated]

    def _service_id(self, pk: int, service_id: int, user) -> int:
        managed = selectors.organizations_managed_by(user=user)
        if not Service.objects.filter(pk=service_id, organization_id=pk, organization__in=managed).exists():
            raise DRFNotFound()
        return service_id

    def patch(self, request, pk: int, service_id: int):
        service_id = self._service_id(pk, service_id, request.user)
        serializer = ServiceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            service = services.service_update(
                service=service_id, by=_owner_only(request.user, pk), **serializer.validated_data
            )
        except DomainError as exc:
            raise _domain_to_drf(exc)
        return Response(ServiceSerializer(service).data)

    def delete(self, request, pk: int, service_id: int):
        service_id = self._service_id(pk, service_id, request.user)
        services.service_delete(service=service_id, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
