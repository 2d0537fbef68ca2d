"""DRF API for referrals (/api/v1/referrals/)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api_fields import StrictSerializer
from portal.api_permissions import NotBlocked, authenticated_user
from portal.api_query import query_validate
from portal.api_schema import api_errors
from portal.errors import NotFound
from portal.throttling import ScopedThrottle
from referrals import selectors, services
from referrals.models import Referral, ReferralCode
from referrals.views import share_links


class ReferralCodeSerializer(serializers.ModelSerializer):
    is_expired = serializers.BooleanField(read_only=True)
    is_usable = serializers.BooleanField(read_only=True)
    signup_link = serializers.SerializerMethodField()
    telegram_link = serializers.SerializerMethodField()

    class Meta:
        model = ReferralCode
        fields = [
            "id",
            "code",
            "expires_at",
            "is_active",
            "is_expired",
            "is_usable",
            "created_at",
            "signup_link",
            "telegram_link",
        ]
        read_only_fields = fields

    def get_signup_link(self, obj) -> str:
        return share_links(obj.code)["signup_link"]

    def get_telegram_link(self, obj) -> str:
        return share_links(obj.code)["telegram_link"]


class ReferralCodeCreateSerializer(StrictSerializer):
    def get_fields(self):
        # The range comes from the settings when the serializer is used, so the schema shows the live one.
        return {
            "days": serializers.IntegerField(
                required=False,
                min_value=settings.REFERRAL_CODE_MIN_DAYS,
                max_value=settings.REFERRAL_CODE_MAX_DAYS,
                help_text=_("Lifetime in days (REFERRAL_CODE_MIN_DAYS..MAX_DAYS; default 30)."),
            )
        }


class ReferralSerializer(serializers.ModelSerializer):
    referred_name = serializers.SerializerMethodField()
    bonus_paid = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "referred_name",
            "code_text",
            "source",
            "created_at",
            "bonus_paid",
            "bonus_paid_at",
            "bonus_amount",
        ]
        read_only_fields = fields

    def get_referred_name(self, obj) -> str:
        return services.referred_display_name(obj.referred)

    def get_bonus_paid(self, obj) -> bool:
        return obj.bonus_paid_at is not None


class ReferralApplySerializer(StrictSerializer):
    code = serializers.CharField(max_length=32)


class AppliedReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ["id", "code_text", "source", "created_at"]
        read_only_fields = fields


class CodeLookupSerializer(serializers.Serializer):
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class CodeLookupQuerySerializer(serializers.Serializer):
    email = serializers.EmailField()


class ReferralCodeListCreateView(generics.ListCreateAPIView):
    """The requesting user's codes; POST creates a new active code (others are deactivated)."""

    permission_classes = [IsAuthenticated, NotBlocked]
    serializer_class = ReferralCodeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReferralCode.objects.none()
        return ReferralCode.objects.filter(user=authenticated_user(self.request)).order_by(
            "-is_active", "-created_at", "-pk"
        )

    @extend_schema(request=ReferralCodeCreateSerializer, responses={201: ReferralCodeSerializer})
    @api_errors({409: "too_many_codes: delete an old code first"})
    def post(self, request, *args, **kwargs):
        data = ReferralCodeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = services.referral_code_create(user=request.user, days=data.validated_data.get("days"))
        return Response(ReferralCodeSerializer(code).data, status=status.HTTP_201_CREATED)


class ReferralCodeDeleteView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        services.referral_code_delete(user=request.user, code_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReferralCodeActivateView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]

    @extend_schema(request=None, responses={200: ReferralCodeSerializer})
    def post(self, request, pk: int):
        code = services.referral_code_activate(user=request.user, code_id=pk)
        return Response(ReferralCodeSerializer(code).data)


class ReferralCodeDeactivateView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]

    @extend_schema(request=None, responses={200: ReferralCodeSerializer})
    def post(self, request, pk: int):
        code = services.referral_code_deactivate(user=request.user, code_id=pk)
        return Response(ReferralCodeSerializer(code).data)


class MyReferralsView(generics.ListAPIView):
    """Who joined with my codes (paginated), with totals."""

    permission_classes = [IsAuthenticated, NotBlocked]
    serializer_class = ReferralSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return selectors.referral_list_for_user(user=authenticated_user(self.request))

    @extend_schema(
        responses=inline_serializer(
            "PaginatedMyReferrals",
            fields={
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": ReferralSerializer(many=True),
                "totals": inline_serializer(
                    "ReferralTotals",
                    fields={
                        "total": serializers.IntegerField(),
                        "bonus_paid": serializers.IntegerField(),
                        "bonus_total": serializers.DecimalField(max_digits=12, decimal_places=2),
                    },
                ),
            },
        )
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        totals = selectors.referral_totals_for_user(user=request.user)
        response.data["totals"] = {
            "total": totals["total"],
            "bonus_paid": totals["bonus_paid"],
            "bonus_total": f"{totals['bonus_total']:.2f}",
        }
        return response


class ReferralApplyView(APIView):
    """Join with a friend's code: once, within 24 hours of registration."""

    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "referral_apply"

    @extend_schema(
        request=ReferralApplySerializer,
        responses={
            201: AppliedReferralSerializer,
            400: OpenApiResponse(description="code_not_found, code_inactive, code_expired, self_referral"),
            409: OpenApiResponse(description="already_referred, too_late"),
        },
    )
    def post(self, request):
        data = ReferralApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_apply(user=request.user, code=data.validated_data["code"], source="api")
        return Response(AppliedReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class ReferralCodeLookupView(APIView):
    """A user's active code by their email. No authentication; throttled per client.

    404 with the same body whether the email is unknown, blocked or has no usable code.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "referral_lookup"

    @extend_schema(
        parameters=[CodeLookupQuerySerializer],
        responses={200: CodeLookupSerializer, 404: OpenApiResponse(description="No usable code")},
    )
    def get(self, request):
        query = query_validate(request, CodeLookupQuerySerializer)
        found = selectors.referral_code_lookup_by_email(email=query["email"])
        if found is None:
            raise NotFound(_("Not found."), code="not_found")
        return Response(CodeLookupSerializer(found).data)
