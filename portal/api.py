"""Accounts API: the current user, Mini App sessions and account linking."""

from django.contrib.auth import login, logout
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import services
from portal.api_fields import StrictModelSerializer, StrictSerializer
from portal.api_permissions import NotBlocked
from portal.api_schema import api_errors
from portal.miniapp_auth import MiniAppIdentity, TelegramMiniAppAuthentication, VKMiniAppAuthentication
from portal.miniapp_start import start_param_is_valid
from portal.models import User
from portal.phones import PhoneSerializerField
from portal.throttling import ScopedThrottle


class MeSerializer(StrictModelSerializer):
    avatar_thumbnail = serializers.ImageField(read_only=True)
    phone = PhoneSerializerField()

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

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="The account is deleted and the session (if any) ended"),
        },
        summary="Delete my account (personal data erased, accounting kept anonymised)",
        description=(
            "Erases the name, email, phone, city, avatar, linked Telegram/VK/Yandex accounts and bot chats; "
            "cancels future bookings, hides owned organizations, stops subscription renewals and switches "
            "referral codes off. Payments, the ledger and past bookings stay, attached to the anonymised "
            "account. The email can sign up again as a new user. Cannot be undone."
        ),
    )
    @api_errors({409: "staff_account: a staff account cannot be deleted"})
    def delete(self, request):
        services.user_delete(user=request.user)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AvatarUploadSerializer(serializers.Serializer):
    avatar = serializers.FileField(help_text=_("JPEG, PNG or WebP"))


class MeAvatarView(APIView):
    permission_classes = [IsAuthenticated, NotBlocked]
    parser_classes = [MultiPartParser]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "upload"

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
    throttle_classes = [ScopedThrottle]
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


class MiniAppSessionRequestSerializer(StrictSerializer):
    start_param = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=512,
        help_text=_(
            "The Mini App's start parameter (VK: the hash after the app address, e.g. org_12 or ref_ABC123). "
            "Telegram's comes signed inside initData and takes precedence. Anything malformed is ignored."
        ),
    )

    def validate_start_param(self, value: str) -> str:
        return value if start_param_is_valid(value) else ""


class MiniAppSessionView(APIView):
    """Exchange a Mini App header for a Django session cookie (for the pages in the webview)."""

    authentication_classes = [TelegramMiniAppAuthentication, VKMiniAppAuthentication]
    permission_classes = [IsAuthenticated, NotBlocked]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "sensitive"

    @extend_schema(
        request=MiniAppSessionRequestSerializer,
        responses={
            200: MeSerializer,
            400: OpenApiResponse(description="The body is not a JSON object with a string start_param"),
            401: OpenApiResponse(description="Missing, invalid or stale launch data"),
            403: OpenApiResponse(description="The user is blocked (code user_blocked)"),
        },
        summary="Open a Django session from Mini App launch data (Authorization: tma …/vk …)",
        description=(
            "Signs the visitor in for the HTML pages of the webview. Every sign-in links the identity's bot "
            "chat to the user (the Telegram chat, the VK community conversation), and a new user's "
            "ref_<code> start parameter applies that referral code."
        ),
    )
    def post(self, request):
        # The body is optional: a POST with none (any content type) signs in just the same.
        data = (
            request.data if request.stream is not None and request.content_type.startswith("application/json") else {}
        )
        body = MiniAppSessionRequestSerializer(data=data)  # a JSON body that is not an object is a 400
        body.is_valid(raise_exception=True)
        identity: MiniAppIdentity = request.auth
        login(request._request, request.user, backend="django.contrib.auth.backends.ModelBackend")
        services.platform_sign_in_announce(
            user=request.user,
            provider=identity.provider,
            uid=identity.uid,
            created=identity.created,
            start_param=identity.start_param or body.validated_data.get("start_param", ""),
        )
        return Response(MeSerializer(request.user, context={"request": request}).data)
