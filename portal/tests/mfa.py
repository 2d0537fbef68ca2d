"""Two-factor helpers for tests: a TOTP authenticator set up the way allauth
stores it, codes computed independently (RFC 6238), and the session records
allauth keeps when someone passes the code step or re-authenticates."""

import base64
import hashlib
import hmac
import struct
import time

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.http import HttpRequest

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET, *, at: float | None = None, period: int = 30, digits: int = 6) -> str:
    """The code an authenticator app shows for ``secret`` at ``at`` (RFC 6238, HMAC-SHA1)."""
    counter = int((time.time() if at is None else at) // period)
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def totp_activate(user, secret: str = TOTP_SECRET) -> Authenticator:
    """Give ``user`` an activated authenticator app, as allauth's activation stores it."""
    return TOTP.activate(user, secret).instance


def session_record(client, user, method: str, **extra) -> None:
    """Record an authentication step in ``client``'s session exactly as allauth does."""
    session = client.session
    request = HttpRequest()
    request.session = session
    record_authentication(request, user, method, **extra)
    session.save()


def session_pass_second_factor(client, user) -> None:
    """The session of a staff member who signed in with password + TOTP code."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    session_record(client, user, "password", email=user.email)
    session_record(client, user, "mfa", id=authenticator.pk, type=authenticator.type)


def session_reauthenticate(client, user) -> None:
    """The session of someone who just re-entered their password (allauth's reauthentication)."""
    session_record(client, user, "password", reauthenticated=True)
