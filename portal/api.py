"""Accounts API: the current user."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import User


class MeSerializer(serializers.ModelSerializer):
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
            "is_verified",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "avatar", "is_verified", "date_joined"]


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, summary="The current user")
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)
