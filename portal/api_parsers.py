"""The API's JSON parser: DRF's, within the size and depth limits of portal/json_limits.py."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from portal.json_limits import JSONLimitError, json_loads_limited


class LimitedJSONParser(JSONParser):
    """JSON bodies up to ``JSON_MAX_BODY_BYTES`` and ``JSON_MAX_DEPTH`` levels; anything else is a 400.

    The error body is the usual ``{"detail", "code"}`` with ``code``
    ``json_too_large``, ``json_too_deep`` or ``parse_error``.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        from django.conf import settings

        limit = settings.JSON_MAX_BODY_BYTES
        # Read at most one byte past the limit: a huge body is refused without being held.
        data = stream.read(limit + 1)
        try:
            return json_loads_limited(data, max_bytes=limit)
        except JSONLimitError as exc:
            raise ParseError(detail=exc.message, code=exc.code)
