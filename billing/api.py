"""DRF API for billing (/api/v1/billing/)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.models import LedgerEntry, Payment, Plan, Subscription
from portal import errors
from portal.api_fields import DecimalStringField, StrictSerializer
from portal.api_permissions import NotBlocked, authenticated_user
from portal.throttling import ScopedThrottle

AUTHENTICATED = [IsAuthenticated, NotBlocked]


def _raise_as_field_error(exc: errors.DomainError):
    field = exc.extra.get("field")
    if isinstance(exc, errors.ValidationError) and field:
        raise serializers.ValidationError({field: [exc.message]}, code=exc.code)
    raise exc


class BalanceSerializer(serializers.Serializer):
    balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class LedgerEntrySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(
        read_only=True, help_text=_("topup, grant, subscription_charge, refund, referral_bonus")
    )
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "kind_display", "amount", "balance_after", "reference", "description", "created_at"]
        read_only_fields = fields


class TopupCreateSerializer(StrictSerializer):
    amount = DecimalStringField(max_digits=12, decimal_places=2, min_value=0, help_text=_("Amount in RUB, e.g. 500.00"))


class TopupSerializer(serializers.ModelSerializer):
    invoice_id = serializers.IntegerField(source="pk", read_only=True)
    payment_url = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = ["invoice_id", "payment_url", "amount", "status", "created_at"]
        read_only_fields = fields

    def get_payment_url(self, obj) -> str:
        return services.payment_url_for(obj)


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "name", "description", "price", "period_months", "period_days"]
        read_only_fields = fields


class SubscriptionSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    plan = PlanSerializer(read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "organization",
            "organization_name",
            "plan",
            "status",
            "auto_renew",
            "current_period_start",
            "current_period_end",
            "created_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class SubscriptionCreateSerializer(StrictSerializer):
    organization = serializers.IntegerField(min_value=1, help_text=_("Id of one of your organizations"))
    plan = serializers.IntegerField(min_value=1, help_text=_("Id of an active plan"))


class BalanceView(APIView):
    permission_classes = AUTHENTICATED

    @extend_schema(responses=BalanceSerializer, summary="Your balance")
    def get(self, request):
        return Response({"balance": f"{selectors.balance_get(user=request.user):.2f}", "currency": "RUB"})


class TransactionListView(generics.ListAPIView):
    """Your ledger, newest first."""

    permission_classes = AUTHENTICATED
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return selectors.ledger_list(user=authenticated_user(self.request))


class TopupCreateView(APIView):
    permission_classes = AUTHENTICATED
    throttle_classes = [ScopedThrottle]
    throttle_scope = "topup"

    @extend_schema(
        request=TopupCreateSerializer,
        responses={201: TopupSerializer, 400: OpenApiResponse(description="Bad amount (field error)")},
        summary="Start a Robokassa top-up",
    )
    def post(self, request):
        data = TopupCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            payment = services.payment_create(user=request.user, amount=data.validated_data["amount"])
        except errors.ValidationError as exc:
            exc.extra.setdefault("field", "amount")
            _raise_as_field_error(exc)
        return Response(TopupSerializer(payment).data, status=status.HTTP_201_CREATED)


class PlanListView(generics.ListAPIView):
    permission_classes = [AllowAny, NotBlocked]
    serializer_class = PlanSerializer

    def get_queryset(self):
        return selectors.plans_active()


class SubscriptionListCreateView(generics.ListAPIView):
    permission_classes = AUTHENTICATED
    serializer_class = SubscriptionSerializer

    def get_queryset(self):
        return selectors.subscription_list(user=authenticated_user(self.request))

    @extend_schema(
        request=SubscriptionCreateSerializer,
        responses={
            201: SubscriptionSerializer,
            404: OpenApiResponse(description="Not your organization"),
            409: OpenApiResponse(description="insufficient_funds or already_subscribed"),
        },
        summary="Buy a plan for one of your organizations",
    )
    def post(self, request):
        data = SubscriptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            subscription = services.subscription_create(
                user=request.user,
                organization_id=data.validated_data["organization"],
                plan_id=data.validated_data["plan"],
            )
        except errors.ValidationError as exc:
            _raise_as_field_error(exc)
        subscription = self.get_queryset().get(pk=subscription.pk)
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(generics.RetrieveAPIView):
    permission_classes = AUTHENTICATED
    serializer_class = SubscriptionSerializer

    def get_queryset(self):
        return selectors.subscription_list(user=authenticated_user(self.request))


class SubscriptionCancelView(APIView):
    permission_classes = AUTHENTICATED

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, 409: OpenApiResponse(description="not_active")},
        summary="Turn off renewal; the listing stays until the paid period ends",
    )
    def post(self, request, pk: int):
        subscription = services.subscription_cancel(user=request.user, subscription_id=pk)
        subscription = selectors.subscription_list(user=request.user).get(pk=subscription.pk)
        return Response(SubscriptionSerializer(subscription).data)
