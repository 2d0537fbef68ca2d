"""JSON from a request, parsed within limits: a size, a nesting depth, and never a 500.

Python's parser recurses once per nesting level and raises RecursionError near
a thousand levels, which used to surface as a 500. ``json_loads_limited`` turns
that, and any nesting deeper than ``JSON_MAX_DEPTH``, into a ``JSONLimitError``
(a ValueError with an error ``code``), which the API parser and the bot
webhooks answer with 400.
"""

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _


class JSONLimitError(ValueError):
    """The body is not JSON we accept; ``code`` says why (the API error code)."""

    def __init__(self, message, code: str):
        super().__init__(str(message))
        self.message = message
        self.code = code


def _reject_constant(name: str):
    # NaN and Infinity are not JSON (RFC 8259), though Python's parser accepts them.
    raise JSONLimitError(_("The JSON body is not valid JSON."), "parse_error")


def json_depth(value: Any) -> int:
    """How deeply ``value``'s lists and objects nest (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def json_loads_limited(data: bytes | str, *, max_bytes: int | None = None, max_depth: int | None = None) -> Any:
    """Parse ``data`` (UTF-8 bytes or text) as strict JSON within the size and depth limits.

    The limits default to the ``JSON_MAX_BODY_BYTES`` and ``JSON_MAX_DEPTH``
    settings. Raises ``JSONLimitError`` with code ``json_too_large``,
    ``json_too_deep`` or ``parse_error`` (DRF's code for a body that is not JSON).
    """
    max_bytes = settings.JSON_MAX_BODY_BYTES if max_bytes is None else max_bytes
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    if len(data) > max_bytes:
        raise JSONLimitError(
            _("The JSON body is larger than %(limit)s bytes.") % {"limit": max_bytes}, "json_too_large"
        )
    too_deep = JSONLimitError(
        _("The JSON body nests deeper than %(limit)s levels.") % {"limit": max_depth}, "json_too_deep"
    )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_reject_constant)
    except JSONLimitError:
        raise
    except RecursionError:
        raise too_deep from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise JSONLimitError(_("The JSON body is not valid JSON."), "parse_error") from None
    if json_depth(value) > max_depth:
        raise too_deep
    return value
