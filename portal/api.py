"""Accounts API: the current user, Mini App sessions, account linking and support tickets."""

from django.contrib.auth import login
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from portal import errors, services
from portal.api_fields import StrictModelSerializer
from portal.api_permissions import NotBlocked
from portal.miniapp_auth import TelegramMiniAppAuthentication, VKMiniAppAuthentication
from portal.models import Ticket, TicketStatusChange, User
from portal.phones import phone_normalize


class MeSerializer(StrictModelSerializer):
    avatar_thumbnail = serializers.ImageField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "city",
            "avatar",
            "avatar_thumbnail",
            "is_verified",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "avatar", "avatar_thumbnail", "is_verified", "date_joined"]

    def validate_phone(self, value: str) -> str:
        try:
            return phone_normalize(value)
        except errors.ValidationError as exc:
            raise serializers.ValidationError(exc.message, code=exc.code)


class MeView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]

    @extend_schema(responses=MeSerializer, summary="The current user")
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        request=MeSerializer,
        responses=MeSerializer,
        summary="Change the profile (first_name, last_name, phone, city)",
    )
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user, context={"request": request}).data)


class AvatarUploadSerializer(serializers.Serializer):
    avatar = serializers.FileField(help_text=_("JPEG, PNG or WebP"))


class MeAvatarView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]
    parser_classes = [MultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sensitive"

    @extend_schema(
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={
            200: MeSerializer,
            400: OpenApiResponse(
                description="No file (field error on avatar), or not an allowed image (image_invalid, "
                "image_type_not_allowed, image_too_large, image_too_many_pixels)"
            ),
        },
        summary="Upload a new avatar (JPEG/PNG/WebP; size and pixel limits)",
    )
    def put(self, request):
        upload = AvatarUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        user = services.user_avatar_set(user=request.user, file=upload.validated_data["avatar"])
        return Response(MeSerializer(user, context={"request": request}).data)


class TelegramLinkSerializer(serializers.Serializer):
    token = serializers.CharField()
    deep_link = serializers.URLField()
    expires_at = serializers.DateTimeField()


class TelegramLinkView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sensitive"

    @extend_schema(
        request=None,
        responses={201: TelegramLinkSerializer},
        summary="A one-time link (10 minutes) that connects a Telegram chat to this account",
    )
    def post(self, request):
        token, deep_link, expires_at = services.telegram_link_create(user=request.user)
        data = TelegramLinkSerializer({"token": token, "deep_link": deep_link, "expires_at": expires_at}).data
        return Response(data, status=status.HTTP_201_CREATED)


class MiniAppSessionView(APIView):
    """Exchange a Mini App header for a Django session cookie (for the pages in the webview)."""

    authentication_classes = [TelegramMiniAppAuthentication, VKMiniAppAuthentication]
    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sensitive"

    @extend_schema(
        request=None,
        responses={
            200: MeSerializer,
            401: OpenApiResponse(description="Missing, invalid or stale launch data"),
            403: OpenApiResponse(description="The user is blocked (code user_blocked)"),
        },
        summary="Open a Django session from Mini App launch data (Authorization: tma …/vk …)",
    )
    def post(self, request):
        login(request._request, request.user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(MeSerializer(request.user, context={"request": request}).data)


# --- Tickets ---------------------------------------------------------------------------


class TicketStatusChangeSerializer(serializers.ModelSerializer):
    by_staff = serializers.SerializerMethodField()

    class Meta:
        model = TicketStatusChange
        fields = ["from_status", "to_status", "comment", "created_at", "by_staff"]

    def get_by_staff(self, change) -> bool:
        return bool(change.changed_by and change.changed_by.is_staff)


class OwnBookingField(serializers.PrimaryKeyRelatedField):
    """A booking id that must be one of the requesting user's bookings."""

    def get_queryset(self):
        from bookings.models import Booking

        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return Booking.objects.none()
        return Booking.objects.filter(user=user)


def _booking_field():
    from bookings.models import Booking

    return OwnBookingField(queryset=Booking.objects.none(), required=False, allow_null=True)


class TicketSerializer(StrictModelSerializer):
    booking = _booking_field()

    class Meta:
        model = Ticket
        fields = ["id", "subject", "text", "booking", "status", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class TicketDetailSerializer(TicketSerializer):
    history = TicketStatusChangeSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "history"]


class TicketListCreateView(generics.ListCreateAPIView):
    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticated, NotBlocked]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return Ticket.objects.filter(user=self.request.user).order_by("-created_at", "-pk")

    def get_throttles(self):
        if self.request.method == "POST":
            self.throttle_scope = "sensitive"
            return [ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(summary="My support tickets")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(responses={201: TicketDetailSerializer}, summary="Open a support ticket")
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_create(user=request.user, **serializer.validated_data)
        return Response(
            TicketDetailSerializer(ticket, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


class TicketDetailView(generics.RetrieveAPIView):
    serializer_class = TicketDetailSerializer
    permission_classes = [IsAuthenticated, NotBlocked]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return Ticket.objects.filter(user=self.request.user).prefetch_related("history__changed_by")

    @extend_schema(summary="One of my tickets, with its status history")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
