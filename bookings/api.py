"""DRF API for bookings: availability, slots, bookings, participants, QR check-in, owners."""

import re
from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, permissions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import selectors, services
from bookings.calendar import booking_ics
from bookings.models import Booking, BookingParticipant, OpeningHours, Resource, Review
from bookings.qr import qr_png, qr_svg
from catalog.models import Organization, Service
from catalog.selectors import organization_can_manage
from portal import errors
from portal.api_fields import StrictModelSerializer, StrictSerializer
from portal.api_permissions import authenticated_user
from portal.api_query import query_validate
from portal.api_schema import api_errors
from portal.throttling import WRITE_THROTTLES, ScopedThrottle

# --- serializers ------------------------------------------------------------------


class ResourceSerializer(serializers.ModelSerializer):
    available = serializers.SerializerMethodField()
    # The ids come annotated with the resource (selectors.resource_service_ids), never a query per resource.
    services = serializers.ListField(
        child=serializers.IntegerField(),
        source="service_ids",
        read_only=True,
        help_text="Ids of the services it offers; empty: every service of the organization (or booked by the hour).",
    )

    class Meta:
        model = Resource
        fields = [
            "id",
            "organization",
            "name",
            "kind",
            "description",
            "capacity",
            "amenities",
            "services",
            "is_active",
            "available",
        ]
        read_only_fields = ["id", "available"]

    def get_available(self, obj) -> bool | None:
        return getattr(obj, "available", None)


class ResourceWriteSerializer(StrictModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    amenities = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False, help_text="Ids of the organization's services."
    )

    class Meta:
        model = Resource
        fields = ["id", "organization", "name", "kind", "description", "capacity", "amenities", "services", "is_active"]
        read_only_fields = ["id"]


class ResourceQuerySerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            raise serializers.ValidationError(_("Give both start and end, or neither."))
        if start is not None:
            if end <= start:
                raise serializers.ValidationError({"end": _("The end must be after the start.")})
            if end - start > timedelta(days=31):
                raise serializers.ValidationError({"end": _("The window can span at most 31 days.")})
        return attrs


class SlotQuerySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Local date in the city's zone")
    service = serializers.IntegerField(min_value=1, required=False, help_text="Its duration is the slot's length")
    duration = serializers.IntegerField(
        min_value=15, max_value=24 * 60, required=False, help_text="Minutes, when no service is given (default 60)"
    )
    step = serializers.ChoiceField(choices=[15, 30], required=False, help_text="Minutes between start times")


class BookingListQuerySerializer(serializers.Serializer):
    when = serializers.ChoiceField(choices=["upcoming", "past"], required=False, allow_blank=True)


class OwnerBookingQuerySerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1, required=False, help_text="One of your organizations")
    date = serializers.DateField(required=False, help_text="Local date of the start")
    status = serializers.ChoiceField(choices=Booking.Status.choices, required=False)


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    local_time = serializers.CharField()


class SlotsResponseSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    date = serializers.DateField()
    timezone = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    step_minutes = serializers.IntegerField()
    slots = SlotSerializer(many=True)


# Plain serializers with explicit fields: a booking is serialized on every
# create and list, and ModelSerializer rebuilds its fields from the model each time.


class BookingResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Resource.Kind.choices, read_only=True)


class BookingServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)


class BookingOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    city = serializers.CharField(source="city.name")
    timezone = serializers.CharField(source="city.timezone")


class ParticipantSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=BookingParticipant.Status.choices, read_only=True)
    invited_at = serializers.DateTimeField(read_only=True)
    responded_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_name(self, obj) -> str:
        return obj.user.get_full_name()


class BookingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    resource = BookingResourceSerializer(read_only=True)
    service = BookingServiceSerializer(read_only=True, allow_null=True)
    organization = BookingOrganizationSerializer(source="resource.organization", read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    starts_at_local = serializers.SerializerMethodField()
    ends_at_local = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Booking.Status.choices, read_only=True)
    status_label = serializers.SerializerMethodField(help_text="The status worded for the reader (client or owner).")
    comment = serializers.SerializerMethodField(help_text="The client's note (booker and owners only).")
    phone = serializers.SerializerMethodField(help_text="The client's contact phone (booker and owners only).")
    role = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    invitation = serializers.SerializerMethodField()
    checked_in_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_starts_at_local(self, obj) -> str:
        return timezone.localtime(obj.starts_at, obj.resource.organization.city.tzinfo).isoformat()

    def get_ends_at_local(self, obj) -> str:
        return timezone.localtime(obj.ends_at, obj.resource.organization.city.tzinfo).isoformat()

    def get_role(self, obj) -> str:
        user = self._user()
        if user is not None and obj.user_id == user.pk:
            return "booker"
        if user is not None and organization_can_manage(user=user, organization=obj.resource.organization):
            return "owner"
        return "participant"

    def get_status_label(self, obj) -> str:
        return obj.owner_status_label() if self.get_role(obj) == "owner" else obj.client_status_label()

    def get_comment(self, obj) -> str:
        return obj.comment if self.get_role(obj) in ("booker", "owner") else ""

    def get_phone(self, obj) -> str:
        if self.get_role(obj) not in ("booker", "owner"):
            return ""
        return obj.phone or obj.user.phone or ""

    def get_can_cancel(self, obj) -> bool:
        user = self._user()
        return bool(user and services.can_cancel(booking=obj, user=user))

    @extend_schema_field(ParticipantSerializer(many=True))
    def get_participants(self, obj) -> list[dict]:
        if self.get_role(obj) == "participant" and self.get_invitation(obj) != BookingParticipant.Status.ACCEPTED:
            return []
        accepted = [link for link in obj.participant_links.all() if link.status == BookingParticipant.Status.ACCEPTED]
        return list(ParticipantSerializer(accepted, many=True).data)

    @extend_schema_field(
        serializers.ChoiceField(choices=BookingParticipant.Status.choices, allow_null=True),
    )
    def get_invitation(self, obj) -> str | None:
        """The requesting user's own answer to an invitation to this booking (null for the booker and owners)."""
        user = self._user()
        if user is None or obj.user_id == user.pk:
            return None
        return next((link.status for link in obj.participant_links.all() if link.user_id == user.pk), None)


class BookingCreateSerializer(StrictSerializer):
    resource = serializers.PrimaryKeyRelatedField(queryset=Resource.objects.select_related("organization__city"))
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=services.COMMENT_MAX_LENGTH)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)


class BookingMoveSerializer(StrictSerializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


class InviteSerializer(StrictSerializer):
    email = serializers.EmailField()


class QRQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["svg", "png"], required=False, help_text="Image type (default svg)")


class CheckInSerializer(StrictSerializer):
    token = serializers.CharField(max_length=2000)


class CheckInResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["checked_in", "already_checked_in"])
    booking = BookingSerializer()


CLOCK_TIME_PATTERN = r"^(2[0-3]|[01][0-9]|[0-9]):([0-5][0-9]|[0-9])(:([0-5][0-9]|[0-9]))?$"


@extend_schema_field({"type": "string", "pattern": CLOCK_TIME_PATTERN, "example": "09:30"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time, ``HH:MM`` or ``HH:MM:SS``: what the schema's pattern says, nothing else.

    DRF's TimeField takes any ISO 8601 form (``0930``, ``09:30+03:00``) and
    non-ASCII digits, none of which a JSON Schema time pattern can describe.
    """

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%H:%M:%S", "%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(CLOCK_TIME_PATTERN, value):
            self.fail("invalid", format="hh:mm[:ss]")
        return super().to_internal_value(value)


class OpeningHoursSerializer(StrictModelSerializer):
    opens_at = ClockTimeField()
    closes_at = ClockTimeField(help_text="00:00 means midnight (end of the day).")

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]


class OpeningHoursListSerializer(StrictSerializer):
    intervals = OpeningHoursSerializer(many=True)


# --- helpers ---------------------------------------------------------------------


def _booking_queryset(queryset):
    return queryset.select_related("resource__organization__city", "service", "user").prefetch_related(
        "participant_links__user"
    )


def _visible_booking(request, pk: int) -> Booking:
    booking = selectors.booking_get_for_user(user=request.user, pk=pk)
    if booking is None:
        raise errors.NotFound(_("Booking not found."))
    return booking


# --- resources and availability ---------------------------------------------------


class ResourceListView(generics.ListCreateAPIView):
    """Resources of an organization, each with ``available`` for the ``start``–``end`` window."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    def get_serializer_class(self):
        return ResourceWriteSerializer if self.request.method == "POST" else ResourceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        query = query_validate(self.request, ResourceQuerySerializer)
        organization = Organization.objects.visible().filter(pk=query["organization"]).first()
        if organization is None:
            return Resource.objects.none()
        return selectors.resource_list_with_availability(
            organization=organization, start=query.get("start"), end=query.get("end")
        )

    @extend_schema(parameters=[ResourceQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ResourceWriteSerializer, responses={201: ResourceWriteSerializer})
    def post(self, request, *args, **kwargs):
        serializer = ResourceWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = data.pop("organization")
        resource = services.resource_create(actor=request.user, organization=organization, **data)
        return Response(ResourceWriteSerializer(resource).data, status=status.HTTP_201_CREATED)


class ResourceDetailView(generics.RetrieveUpdateAPIView):
    """One resource; owners and staff edit it (PATCH)."""

    http_method_names = ["get", "patch", "head", "options"]

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    def get_serializer_class(self):
        return ResourceWriteSerializer if self.request.method == "PATCH" else ResourceSerializer

    def get_queryset(self):
        if self.request.method == "PATCH":
            managed = selectors.organization_list_managed(user=self.request.user)
            return Resource.objects.select_related("organization").filter(organization__in=managed)
        return selectors.resources_public().annotate(service_ids=selectors.resource_service_ids())

    def patch(self, request, *args, **kwargs):
        resource = self.get_object()
        serializer = ResourceWriteSerializer(resource, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "organization" in data and data.pop("organization") != resource.organization:
            raise errors.ValidationError(_("A resource cannot move to another organization."))
        resource = services.resource_update(actor=request.user, resource=resource, **data)
        return Response(ResourceWriteSerializer(resource).data)


class ResourceSlotsView(APIView):
    """The day's free start times of a resource for a service's duration, in the city's zone."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[SlotQuerySerializer], responses={200: SlotsResponseSerializer})
    def get(self, request, pk: int):
        resource = get_object_or_404(selectors.resources_public().select_related("organization__city"), pk=pk)
        query = query_validate(request, SlotQuerySerializer)
        day: date = query["date"]
        length = selectors.slot_length(
            resource=resource,
            service=query.get("service"),
            duration_minutes=query.get("duration"),
            step_minutes=int(query.get("step") or 0) or None,
        )
        duration, step = length.duration_minutes, length.step_minutes
        service = length.service
        if service is not None and not resource.offers(service):
            raise errors.ValidationError(
                _("%(resource)s does not offer «%(service)s».") % {"resource": resource.name, "service": service.name},
                code="service_not_offered",
            )
        slots = selectors.resource_free_slots(resource=resource, day=day, duration_minutes=duration, step_minutes=step)
        zone = resource.organization.city.tzinfo
        return Response(
            {
                "resource": resource.pk,
                "date": day.isoformat(),
                "timezone": resource.organization.city.timezone,
                "duration_minutes": duration,
                "step_minutes": step,
                "slots": [
                    {
                        "starts_at": slot.starts_at.isoformat().replace("+00:00", "Z"),
                        "ends_at": slot.ends_at.isoformat().replace("+00:00", "Z"),
                        "local_time": timezone.localtime(slot.starts_at, zone).strftime("%H:%M"),
                    }
                    for slot in slots
                ],
            }
        )


# --- bookings -----------------------------------------------------------------------


class BookingListCreateView(generics.ListCreateAPIView):
    """My bookings (including those I was invited to, read-only) and booking a slot."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BookingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        when = query_validate(self.request, BookingListQuerySerializer).get("when") or None
        return _booking_queryset(selectors.booking_list_for_user(user=authenticated_user(self.request), when=when))

    @extend_schema(parameters=[BookingListQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=BookingCreateSerializer,
        responses={201: BookingSerializer, 409: OpenApiResponse(description="slot_taken: the time is taken")},
    )
    def post(self, request, *args, **kwargs):
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_create(user=request.user, **serializer.validated_data)
        return Response(BookingSerializer(booking, context={"request": request}).data, status=status.HTTP_201_CREATED)


class BookingDetailView(APIView):
    """One booking I book, take part in, or own the organization of; PATCH moves it."""

    permission_classes = [permissions.IsAuthenticated]
    schema_patch_is_complete = True  # PATCH gives the new time: starts_at is required

    @extend_schema(responses={200: BookingSerializer})
    def get(self, request, pk: int):
        booking = _visible_booking(request, pk)
        return Response(BookingSerializer(booking, context={"request": request}).data)

    @extend_schema(request=BookingMoveSerializer, responses={200: BookingSerializer})
    @api_errors({409: "booking_not_movable (not upcoming) or slot_taken"})
    def patch(self, request, pk: int):
        booking = _visible_booking(request, pk)
        serializer = BookingMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_move(booking=booking, actor=request.user, **serializer.validated_data)
        booking = _booking_queryset(Booking.objects.filter(pk=booking.pk)).get()
        return Response(BookingSerializer(booking, context={"request": request}).data)


class BookingCancelView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: BookingSerializer})
    @api_errors({409: "booking_not_cancellable or cancel_deadline_passed"})
    def post(self, request, pk: int):
        booking = _visible_booking(request, pk)
        booking = services.booking_cancel(booking=booking, actor=request.user)
        return Response(BookingSerializer(booking, context={"request": request}).data)


class BookingAcceptView(APIView):
    """The invitee accepts an invitation: they take part, appear to the booker and get reminders."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            200: ParticipantSerializer,
            404: OpenApiResponse(description="Not invited to this booking"),
            409: OpenApiResponse(description="booking_not_active or capacity_exceeded"),
        },
    )
    def post(self, request, pk: int):
        booking = _visible_booking(request, pk)
        link = services.booking_accept(booking=booking, user=request.user)
        return Response(ParticipantSerializer(link).data)


class BookingDeclineView(APIView):
    """A participant declines an invitation."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: ParticipantSerializer})
    def post(self, request, pk: int):
        booking = _visible_booking(request, pk)
        link = services.booking_decline(booking=booking, user=request.user)
        return Response(ParticipantSerializer(link).data)


class InvitationSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["invitation_sent"])


class BookingParticipantsView(APIView):
    """The booking's participants (those who accepted); the booker invites by email.

    The answer to an invitation is the same whether or not the email belongs to
    a Citydesk user: nobody learns from it who is registered.
    """

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = WRITE_THROTTLES
    throttle_scope = "invite"

    @extend_schema(responses={200: ParticipantSerializer(many=True)})
    def get(self, request, pk: int):
        booking = _visible_booking(request, pk)
        return Response(ParticipantSerializer(selectors.booking_participants(booking=booking), many=True).data)

    @extend_schema(
        request=InviteSerializer,
        responses={
            202: InvitationSentSerializer,
            400: OpenApiResponse(description="Not an email, or your own"),
            403: OpenApiResponse(description="Only the booker invites"),
            409: OpenApiResponse(description="booking_not_active or capacity_exceeded"),
            429: OpenApiResponse(description="Too many invitations (scope invite)"),
        },
        summary="Invite someone by email (same answer whether or not the email is registered)",
    )
    def post(self, request, pk: int):
        booking = _visible_booking(request, pk)
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.booking_invite(booking=booking, actor=request.user, email=serializer.validated_data["email"])
        return Response(
            {"detail": services.INVITATION_SENT_MESSAGE, "code": "invitation_sent"}, status=status.HTTP_202_ACCEPTED
        )


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignore ``?format=``: the QR view uses it to pick the image type itself."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BookingQRView(APIView):
    """The check-in QR code of a booking: SVG by default, ``?format=png`` for PNG."""

    permission_classes = [permissions.IsAuthenticated]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        parameters=[QRQuerySerializer],
        responses={
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, pk: int):
        booking = _visible_booking(request, pk)
        kind = query_validate(request, QRQuerySerializer).get("format", "svg")
        data = services.checkin_url(booking)
        if kind == "png":
            response = HttpResponse(qr_png(data), content_type="image/png")
        else:
            response = HttpResponse(qr_svg(data), content_type="image/svg+xml")
        response["Cache-Control"] = "private, no-store"
        return response


class BookingCalendarView(APIView):
    """The booking as an iCalendar event, for the booker and the participants who accepted (404 for others)."""

    permission_classes = [permissions.IsAuthenticated]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        responses={
            (200, "text/calendar"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not found, or neither the booker nor an accepted participant"),
        },
        summary="Add to calendar (.ics)",
    )
    def get(self, request, pk: int):
        booking = _visible_booking(request, pk)
        takes_part = booking.participant_links.filter(
            user=request.user, status=BookingParticipant.Status.ACCEPTED
        ).exists()
        if booking.user_id != request.user.pk and not takes_part:
            raise errors.NotFound(_("Booking not found."))
        response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="booking-{booking.pk}.ics"'
        response["Cache-Control"] = "private, no-store"
        return response


class BookingCheckInView(APIView):
    """Owners and staff check a booking in by its scanned or pasted token."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "sensitive"
    throttle_classes = [ScopedThrottle]

    @extend_schema(request=CheckInSerializer, responses={200: CheckInResponseSerializer})
    @api_errors(
        {
            403: "foreign_booking: the booking is not of your organization",
            409: "booking_cancelled, booking_finished, too_early or too_late",
        }
    )
    def post(self, request):
        serializer = CheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking, already = services.booking_check_in_by_token(
            token=serializer.validated_data["token"], actor=request.user
        )
        booking = _booking_queryset(Booking.objects.filter(pk=booking.pk)).get()
        return Response(
            {
                "detail": services.checkin_message(booking, already),
                "code": "already_checked_in" if already else "checked_in",
                "booking": BookingSerializer(booking, context={"request": request}).data,
            }
        )


# --- owners ---------------------------------------------------------------------------


class OwnerBookingListView(generics.ListAPIView):
    """Bookings of the resources of organizations I own (staff: all)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BookingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        params = query_validate(self.request, OwnerBookingQuerySerializer)
        organization = None
        if "organization" in params:
            organization = (
                selectors.organization_list_managed(user=self.request.user).filter(pk=params["organization"]).first()
            )
            if organization is None:
                raise errors.NotFound(_("Organization not found."))
        day = params.get("date")
        status_value = params.get("status")
        return _booking_queryset(
            selectors.booking_list_for_owner(
                user=self.request.user, organization=organization, day=day, status=status_value
            )
        )

    @extend_schema(parameters=[OwnerBookingQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OpeningHoursView(APIView):
    """An organization's weekly opening hours (public); owners replace them with PUT."""

    def get_permissions(self):
        if self.request.method == "PUT":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    def _organization(self, request, pk):
        if request.method == "PUT":
            return get_object_or_404(selectors.organization_list_managed(user=request.user), pk=pk)
        return get_object_or_404(Organization.objects.visible(), pk=pk)

    @extend_schema(responses={200: OpeningHoursListSerializer})
    def get(self, request, pk: int):
        organization = self._organization(request, pk)
        rows = OpeningHours.objects.filter(organization=organization).order_by("weekday", "opens_at")
        return Response({"intervals": OpeningHoursSerializer(rows, many=True).data})

    @extend_schema(request=OpeningHoursListSerializer, responses={200: OpeningHoursListSerializer})
    def put(self, request, pk: int):
        organization = self._organization(request, pk)
        serializer = OpeningHoursListSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = services.opening_hours_replace(
            actor=request.user,
            organization=organization,
            intervals=[(i["weekday"], i["opens_at"], i["closes_at"]) for i in serializer.validated_data["intervals"]],
        )
        return Response({"intervals": OpeningHoursSerializer(rows, many=True).data})


# --- reviews ------------------------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(read_only=True)
    reply = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "organization", "rating", "text", "author_name", "created_at", "reply"]
        read_only_fields = fields

    @extend_schema_field(
        inline_serializer(
            "ReviewReply",
            {"text": serializers.CharField(), "created_at": serializers.DateTimeField()},
            allow_null=True,
        )
    )
    def get_reply(self, obj) -> dict | None:
        if not obj.reply:
            return None
        return {"text": obj.reply, "created_at": serializers.DateTimeField().to_representation(obj.replied_at)}


class ReviewCreateSerializer(serializers.Serializer):
    booking = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReviewReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


def _reviewable_organization(request, pk: int) -> Organization:
    """A visible organization, or one the requesting owner (or staff) manages; else 404."""
    organization = Organization.objects.visible().filter(pk=pk).first()
    if organization is None and request.user.is_authenticated:
        organization = selectors.organization_list_managed(user=request.user).filter(pk=pk).first()
    if organization is None:
        raise errors.NotFound(_("Organization not found."))
    return organization


class OrganizationReviewListView(generics.ListCreateAPIView):
    """An organization's reviews, newest first; a client who visited it writes one per booking."""

    serializer_class = ReviewSerializer
    filter_backends: list = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.IsAuthenticated(), *super().get_permissions()]
        return [permissions.AllowAny(), *super().get_permissions()]

    def get_throttles(self):
        if self.request.method == "POST":
            self.throttle_scope = "sensitive"
            return [*super().get_throttles(), ScopedThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.review_list_for_organization(
            organization=_reviewable_organization(self.request, self.kwargs["pk"])
        )

    @extend_schema(
        summary="An organization's visible reviews, newest first",
        responses={
            200: ReviewSerializer(many=True),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Review a visit (the booker of a checked-in or completed booking, once per booking)",
        request=ReviewCreateSerializer,
        responses={
            201: ReviewSerializer,
            400: OpenApiResponse(description="Validation errors by field (rating 1..5, booking, text)"),
        },
    )
    @api_errors({403: "not_attended: only the booker of an attended visit reviews it", 409: "already_reviewed"})
    def post(self, request, *args, **kwargs):
        organization = _reviewable_organization(request, kwargs["pk"])
        serializer = ReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_create(user=request.user, organization=organization, **serializer.validated_data)
        review = Review.objects.select_related("author").get(pk=review.pk)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewReplyView(APIView):
    """The organization's owner answers a review, once."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "sensitive"
    throttle_classes = [ScopedThrottle]

    @extend_schema(
        summary="Answer a review of your organization (once)",
        request=ReviewReplySerializer,
        responses={
            200: ReviewSerializer,
            400: OpenApiResponse(description="Validation errors by field (text)"),
        },
    )
    def post(self, request, pk: int):
        serializer = ReviewReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_reply(review=pk, by=request.user, text=serializer.validated_data["text"])
        return Response(ReviewSerializer(review).data)
