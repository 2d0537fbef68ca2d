"""Support tickets API: ``/api/v1/tickets/`` (list, open), ``/api/v1/tickets/{id}/`` (with history) and
``/api/v1/tickets/{id}/messages/`` (the conversation: read, write with an optional image)."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookings.models import Booking
from portal.api_fields import StrictModelSerializer
from portal.api_parsers import LimitedJSONParser
from portal.api_permissions import NotBlocked, authenticated_user
from portal.api_schema import api_errors
from portal.throttling import WRITE_THROTTLES, throttle_hit
from support import services
from support.models import Ticket, TicketMessage, TicketStatusChange


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
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return Booking.objects.none()
        return Booking.objects.filter(user=user)


class TicketSerializer(StrictModelSerializer):
    booking = OwnBookingField(queryset=Booking.objects.none(), required=False, allow_null=True)

    class Meta:
        model = Ticket
        fields = ["id", "subject", "text", "booking", "status", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class TicketDetailSerializer(TicketSerializer):
    history = TicketStatusChangeSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "history"]


class TicketMessageSerializer(serializers.ModelSerializer):
    attachment = serializers.SerializerMethodField(help_text=_("URL of the attached image (signed-in user), or null"))

    class Meta:
        model = TicketMessage
        fields = ["id", "text", "attachment", "by_staff", "created_at"]

    def get_attachment(self, message) -> str | None:
        if not message.attachment:
            return None
        path = reverse("support:message_attachment", args=[message.ticket_id, message.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class TicketMessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=services.MESSAGE_MAX_LENGTH)
    attachment = serializers.FileField(required=False, help_text=_("JPEG, PNG or WebP (multipart only)"))

    def validate(self, attrs):
        if not (attrs.get("text") or "").strip() and not attrs.get("attachment"):
            raise serializers.ValidationError({"text": [_("Write a message or attach an image.")]})
        return attrs


class TicketListCreateView(generics.ListCreateAPIView):
    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = WRITE_THROTTLES
    throttle_scope = "ticket"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return Ticket.objects.filter(user=authenticated_user(self.request)).order_by("-created_at", "-pk")

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
        return Ticket.objects.filter(user=authenticated_user(self.request)).prefetch_related("history__changed_by")

    @extend_schema(summary="One of my tickets, with its status history")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TicketMessageListCreateView(generics.ListCreateAPIView):
    """The conversation of one of my tickets, oldest first; a new message notifies the support team."""

    serializer_class = TicketMessageSerializer
    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = WRITE_THROTTLES
    throttle_scope = "ticket_message"
    # JSON, or multipart with an image attached
    parser_classes = [LimitedJSONParser, MultiPartParser]

    def _ticket(self) -> Ticket:
        return get_object_or_404(Ticket, pk=self.kwargs["pk"], user=self.request.user)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TicketMessage.objects.none()
        return services.ticket_message_list(ticket=self._ticket())

    @extend_schema(summary="The conversation of one of my tickets", responses={200: TicketMessageSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={
            "application/json": TicketMessageCreateSerializer,
            "multipart/form-data": TicketMessageCreateSerializer,
        },
        responses={201: TicketMessageSerializer},
        summary="Write in one of my tickets (409 ticket_closed once it is closed, resolved or rejected)",
    )
    @api_errors({409: "ticket_closed"})
    def post(self, request, *args, **kwargs):
        ticket = self._ticket()
        incoming = TicketMessageCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        attachment = incoming.validated_data.get("attachment")
        if attachment is not None:
            verdict = throttle_hit(request, "upload")
            if not verdict.allowed:
                self.throttled(request, verdict.wait)
        message = services.ticket_message_add(
            ticket=ticket, author=request.user, text=incoming.validated_data.get("text", ""), attachment=attachment
        )
        return Response(
            TicketMessageSerializer(message, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )
