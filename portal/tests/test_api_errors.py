import pytest
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from portal import errors


class _RaisingView(APIView):
    """A view that raises whatever the test hands it, to exercise the handler."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    exc: Exception | None = None

    def get(self, request):
        raise self.exc


class _Payload(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)


class _ValidatingView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def post(self, request):
        _Payload(data=request.data).is_valid(raise_exception=True)


def _call(exc):
    view = _RaisingView.as_view(exc=exc)
    return view(APIRequestFactory().get("/"))


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.ValidationError("bad"), 400, "invalid"),
        (errors.PermissionDenied("no"), 403, "permission_denied"),
        (errors.UserBlocked("blocked"), 403, "user_blocked"),
        (errors.NotFound("gone"), 404, "not_found"),
        (errors.Conflict("busy"), 409, "conflict"),
        (errors.InsufficientFunds("poor"), 409, "insufficient_funds"),
        (errors.SlotTaken("taken"), 409, "slot_taken"),
        (errors.DomainError("custom", code="custom_code"), 400, "custom_code"),
    ],
)
def test_domain_errors_map_to_status_and_code(exc, status, code):
    response = _call(exc)

    assert response.status_code == status
    assert response.data["code"] == code
    assert response.data["detail"] == str(exc)


def test_domain_error_extra_fields_are_included():
    response = _call(errors.SlotTaken("taken", extra={"conflict_starts_at": "2026-01-01T10:00:00Z"}))

    assert response.data["conflict_starts_at"] == "2026-01-01T10:00:00Z"


def test_django_validation_error_is_400():
    from django.core.exceptions import ValidationError

    response = _call(ValidationError({"phone": ["Bad phone"]}))

    assert response.status_code == 400
    assert response.data == {"phone": ["Bad phone"]}


def test_validation_errors_keep_field_map():
    view = _ValidatingView.as_view()
    response = view(APIRequestFactory().post("/", {"amount": "abc"}, format="json"))

    assert response.status_code == 400
    assert "amount" in response.data


def test_malformed_json_is_400_not_500():
    view = _ValidatingView.as_view()
    response = view(APIRequestFactory().post("/", b"{not json", content_type="application/json"))

    assert response.status_code == 400
    assert response.data["code"] == "parse_error"


HUGE_ID = "543417279824595207061504"  # far beyond any 64-bit id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/organizations/{HUGE_ID}/services/3/",
        f"/api/v1/organizations/1/services/{HUGE_ID}/",
        f"/api/v1/bookings/{HUGE_ID}/qr/",
        f"/api/v1/tickets/{HUGE_ID}/",
    ],
)
def test_an_id_too_large_for_any_row_is_a_404_not_a_database_error(user_api, path):
    response = user_api.patch(path, {"name": "x"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_a_page_path_with_an_id_too_large_is_a_404(client, user):
    client.force_login(user)

    assert client.get(f"/tickets/{HUGE_ID}/").status_code == 404
