"""Support tickets API: ``/api/v1/tickets/`` (list, open) and ``/api/v1/tickets/{id}/`` (with history)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookings.models import Booking
from portal.api_fields import StrictModelSerializer
from portal.api_permissions import NotBlocked
from portal.throttling import WRITE_THROTTLES
from support import services
from support.models import Ticket, TicketStatusChange


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


class TicketListCreateView(generics.ListCreateAPIView):
    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = WRITE_THROTTLES
    throttle_scope = "ticket"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return Ticket.objects.filter(user=self.request.user).order_by("-created_at", "-pk")

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
