"""The OpenAPI schema tells the truth: every status an operation answers, its body, every constraint.

Each test here stands for a gap a schema-driven fuzzer found (docs/security.md,
"API fuzzing"); tests/test_api_fuzz.py runs the fuzzer itself.
"""

import re
from datetime import time

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator

from bookings.models import OpeningHours
from bookings.tests.factories import ResourceFactory
from catalog.tests.factories import CityFactory, OrganizationFactory
from portal.api_schema import NO_NUL_PATTERN

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def parameter(schema, path, method, name):
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


def assert_documented(schema, path, method, response):
    """The response's status is documented for the operation and its JSON body matches the schema."""
    documented = schema["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (path, method, response.status_code, sorted(documented))
    body_schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    jsonschema.Draft7Validator({**body_schema, "components": schema["components"]}).validate(response.json())


# --- every operation documents the statuses its construction implies ----------------------


def test_every_operation_documents_401_403_404_429_with_the_error_body(schema):
    checked = 0
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        authenticated = any(requirement for requirement in operation.get("security", []))
        if authenticated:
            assert {"401", "403"} <= responses.keys(), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "415"} <= responses.keys(), (method, path)
        assert "429" in responses, (method, path)  # every API view is throttled
        for status, response in responses.items():
            if status.startswith("4"):
                body = response["content"]["application/json"]["schema"]
                assert "#/components/schemas/Error" in str(body), (method, path, status)
        checked += 1
    assert checked >= 60


def test_business_conflicts_are_documented_where_they_happen(schema):
    conflicts = {
        ("/api/v1/bookings/", "post"),
        ("/api/v1/bookings/{id}/", "patch"),
        ("/api/v1/bookings/{id}/cancel/", "post"),
        ("/api/v1/bookings/{id}/participants/", "post"),
        ("/api/v1/bookings/check-in/", "post"),
        ("/api/v1/organizations/{id}/", "delete"),
        ("/api/v1/referrals/codes/", "post"),
        ("/api/v1/billing/subscriptions/", "post"),
    }
    for path, method in conflicts:
        assert "409" in schema["paths"][path][method]["responses"], (method, path)


def test_error_schema_is_detail_and_code(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code"]
    assert error["properties"] == {"detail": {"type": "string"}, "code": {"type": "string"}}


# --- real error answers match what the schema says ---------------------------------------


def test_avatar_errors_have_the_documented_shape(user_api, schema):
    not_an_image = SimpleUploadedFile("a.png", b"%PDF-1.4 not an image", content_type="image/png")
    bad_file = user_api.put("/api/v1/me/avatar/", {"avatar": not_an_image}, format="multipart")
    no_file = user_api.put("/api/v1/me/avatar/", {}, format="multipart")

    assert bad_file.status_code == 400
    assert bad_file.json()["code"] == "image_invalid"
    assert_documented(schema, "/api/v1/me/avatar/", "put", bad_file)
    assert no_file.status_code == 400
    assert "avatar" in no_file.json()
    assert_documented(schema, "/api/v1/me/avatar/", "put", no_file)


def test_anonymous_throttled_and_missing_answers_have_the_documented_shape(api_client, user_api, schema, settings):
    assert_documented(schema, "/api/v1/me/", "get", api_client.get("/api/v1/me/"))
    assert_documented(schema, "/api/v1/tickets/{id}/", "get", user_api.get("/api/v1/tickets/999/"))
    garbage = api_client.get("/api/v1/cities/", HTTP_AUTHORIZATION="tma garbage")
    assert garbage.status_code == 401
    assert_documented(schema, "/api/v1/cities/", "get", garbage)

    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["referral_lookup"]
    for _ in range(int(rate.split("/")[0]) + 1):
        throttled = api_client.get("/api/v1/referrals/code/", {"email": "nobody@example.com"})
    assert throttled.status_code == 429
    assert_documented(schema, "/api/v1/referrals/code/", "get", throttled)


# --- parameters carry their constraints ---------------------------------------------------


def test_query_parameters_carry_their_constraints(schema):
    organization = parameter(schema, "/api/v1/resources/", "get", "organization")
    assert organization["required"] is True
    assert organization["schema"] == {"type": "integer", "minimum": 1}
    assert parameter(schema, "/api/v1/cities/", "get", "page")["schema"] == {"type": "integer", "minimum": 1}
    page_size = parameter(schema, "/api/v1/cities/", "get", "page_size")["schema"]
    assert page_size == {"type": "integer", "minimum": 1, "maximum": 100}
    email = parameter(schema, "/api/v1/referrals/code/", "get", "email")
    assert email["required"] is True
    assert email["schema"] == {"type": "string", "format": "email", "minLength": 1}
    assert parameter(schema, "/api/v1/tickets/{id}/", "get", "id")["schema"]["minimum"] == 1


def test_bodies_carry_their_constraints(schema):
    components = schema["components"]["schemas"]
    move = schema["paths"]["/api/v1/organizations/{id}/photos/{photo_id}/"]["patch"]["requestBody"]
    move_schema = components[move["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
    assert move_schema["required"] == ["position"]
    assert move["required"] is True
    assert components["BookingMoveRequest"]["required"] == ["starts_at"]
    assert components["ReferralCodeCreateRequest"]["properties"]["days"] | {"description": ""} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 365,
        "description": "",
    }
    assert components["ServiceRequest"]["properties"]["price"]["pattern"] == r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
    assert components["TicketRequest"]["properties"]["subject"]["pattern"] == NO_NUL_PATTERN
    assert components["TicketRequest"]["properties"]["booking"]["minimum"] == 1


def test_json_bodies_only_except_uploads(schema):
    for path, method, operation in operations(schema):
        if "requestBody" not in operation:
            continue
        media_types = set(operation["requestBody"]["content"])
        if path in ("/api/v1/me/avatar/", "/api/v1/organizations/{id}/photos/"):
            assert media_types == {"multipart/form-data"}, path
        elif path == "/api/v1/tickets/{id}/messages/":  # a message, or a message with an image
            assert media_types == {"application/json", "multipart/form-data"}, path
        else:
            assert media_types == {"application/json"}, (method, path)


# --- the server refuses what the schema forbids -----------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"page_size": "0"},
        {"page_size": "101"},
        {"page_size": "null"},
        {"page_size": ""},
        {"page": "0"},
        {"page": "abc"},
        {"page": " 1"},
        {"page": "1.0"},
        {"page": "٣"},
    ],
)
def test_bad_pagination_is_a_400_naming_the_parameter(api_client, query):
    response = api_client.get("/api/v1/cities/", query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_a_repeated_parameter_is_a_400_and_a_page_past_the_end_a_404(api_client):
    CityFactory()
    repeated = api_client.get("/api/v1/cities/?page=1&page=2")
    assert repeated.status_code == 400
    assert "page" in repeated.json()
    assert api_client.get("/api/v1/cities/", {"page": 2}).status_code == 404
    assert api_client.get("/api/v1/cities/", {"page": 1, "page_size": 100}).status_code == 200


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/v1/resources/", {"organization": "0"}, "organization"),
        ("/api/v1/resources/", {"organization": ""}, "organization"),
        ("/api/v1/referrals/code/", {"email": ""}, "email"),
        ("/api/v1/bookings/owned/", {"organization": ""}, "organization"),
        ("/api/v1/bookings/owned/", {"status": "nope"}, "status"),
    ],
)
def test_query_values_outside_the_schema_are_400(user_api, url, query, field):
    response = user_api.get(url, query)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("url", "method", "body", "field"),
    [
        ("/api/v1/tickets/", "post", {"subject": "Вопрос", "text": 0}, "text"),
        ("/api/v1/me/", "patch", {"last_name": 0}, "last_name"),
        ("/api/v1/billing/topups/", "post", {"amount": 500}, "amount"),
        ("/api/v1/billing/topups/", "post", {"amount": "5e2"}, "amount"),
        ("/api/v1/billing/topups/", "post", {"amount": " 500"}, "amount"),
        ("/api/v1/referrals/codes/", "post", {"days": "10"}, "days"),
        ("/api/v1/referrals/codes/", "post", {"days": True}, "days"),
    ],
)
def test_json_values_of_another_type_are_400(user_api, url, method, body, field):
    response = getattr(user_api, method)(url, body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_an_id_given_as_a_string_is_400(user_api):
    city = CityFactory()

    response = user_api.patch("/api/v1/me/", {"city": str(city.pk)}, format="json")

    assert response.status_code == 400
    assert "city" in response.json()
    assert user_api.patch("/api/v1/me/", {"city": city.pk}, format="json").json()["city"] == city.pk


def test_service_price_is_a_decimal_string(user_api, user):
    organization = OrganizationFactory(owner=user)
    url = f"/api/v1/organizations/{organization.pk}/services/"
    service = {"name": "Стрижка", "duration_minutes": 30}

    assert user_api.post(url, {**service, "price": 990}, format="json").status_code == 400
    assert user_api.post(url, {**service, "price": "-1"}, format="json").status_code == 400
    created = user_api.post(url, {**service, "price": "990.5"}, format="json")
    assert created.status_code == 201
    assert created.json()["price"] == "990.50"


def test_a_form_encoded_body_is_415(user_api):
    response = user_api.post("/api/v1/tickets/", "subject=a&text=b", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_opening_hours_take_and_give_wall_clock_times(user_api, user, schema):
    organization = OrganizationFactory(owner=user)
    ResourceFactory(organization=organization)
    url = f"/api/v1/organizations/{organization.pk}/opening-hours/"

    for bad in ("0930", "09:30+03:00", "٠٩:٣٠", "24:00", 930):
        interval = {"weekday": 0, "opens_at": bad, "closes_at": "18:00"}
        assert user_api.put(url, {"intervals": [interval]}, format="json").status_code == 400, bad
    interval = {"weekday": 0, "opens_at": "9:30", "closes_at": "18:00"}
    response = user_api.put(url, {"intervals": [interval]}, format="json")

    assert response.status_code == 200
    assert OpeningHours.objects.get(organization=organization).opens_at == time(9, 30)
    pattern = schema["components"]["schemas"]["OpeningHours"]["properties"]["opens_at"]["pattern"]
    assert all(re.fullmatch(pattern, i["opens_at"]) for i in response.json()["intervals"])
