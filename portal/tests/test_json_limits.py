"""JSON bodies: too deep, too large or not JSON is a 400 with the usual error body, never a 500."""

import json

import pytest

from portal.json_limits import JSONLimitError, json_depth, json_loads_limited

pytestmark = pytest.mark.django_db

RECURSION = "[" * 100_000 + "]" * 100_000  # Python's parser raises RecursionError on this
NESTED = "[" * 100 + "]" * 100  # parses, but nests deeper than JSON_MAX_DEPTH (32)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(RECURSION, "json_too_deep", id="recursion"),
        pytest.param('{"first_name": ' + NESTED + "}", "json_too_deep", id="nested-value"),
        pytest.param('{"a": ' * 5000 + "1" + "}" * 5000, "json_too_deep", id="deep-objects"),
        pytest.param('{"first_name": "' + "x" * (1024 * 1024) + '"}', "json_too_large", id="too-large"),
        pytest.param("{broken", "parse_error", id="broken"),
        pytest.param('{"first_name": NaN}', "parse_error", id="nan"),
        pytest.param(b'{"first_name": "\xff"}', "parse_error", id="not-utf8"),
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_bad_json_bodies_are_400_with_the_error_body(user_api, body, code, method):
    url = "/api/v1/me/" if method == "PATCH" else "/api/v1/tickets/"

    response = user_api.generic(method, url, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_json_within_the_limits_still_works(user_api):
    response = user_api.patch("/api/v1/me/", {"first_name": "Анна"}, format="json")

    assert response.status_code == 200
    assert response.json()["first_name"] == "Анна"


def test_every_json_api_view_uses_the_limited_parser():
    from django.urls import get_resolver
    from rest_framework.parsers import JSONParser
    from rest_framework.views import APIView

    from portal.api_parsers import LimitedJSONParser

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                cls = getattr(pattern.callback, "cls", None)
                if cls is not None and issubclass(cls, APIView):
                    yield cls

    checked = 0
    for cls in views(get_resolver().url_patterns):
        for parser in cls().get_parsers():
            if isinstance(parser, JSONParser):
                assert isinstance(parser, LimitedJSONParser), cls
                checked += 1
    assert checked > 20


def test_json_loads_limited_names_each_refusal():
    assert json_loads_limited(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert json_depth({"a": [1, {"b": []}]}) == 4
    assert json_depth("scalar") == 0
    for data, code in [
        (json.dumps([[[1]]]), "json_too_deep"),
        ("[1]" + " " * 10, "json_too_large"),
        ("[Infinity]", "parse_error"),
    ]:
        with pytest.raises(JSONLimitError) as exc:
            json_loads_limited(data, max_bytes=12, max_depth=2)
        assert exc.value.code == code
