"""The client's address, the one way every part of the site reads it.

Behind ``TRUSTED_PROXY_COUNT`` proxies the client is the address that the
outermost trusted proxy saw: the entry that many places from the right of
``X-Forwarded-For``. With the default of 0 the header is ignored entirely, so a
client cannot choose its own address (and with it its throttle or lockout key).
"""

from ipaddress import ip_address

from django.conf import settings


def _valid(address: str) -> bool:
    try:
        ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request) -> str:
    """The address of the client that sent ``request`` (a Django ``HttpRequest``)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-min(count, len(forwarded))]
    return candidate if _valid(candidate) else remote
