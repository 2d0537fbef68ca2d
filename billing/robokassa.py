"""Robokassa's signature formulas and payment links (no database, no HTTP).

Payment link: hash(``MerchantLogin:OutSum:InvId:Password1[:Shp_key=value…]``);
ResultURL: hash(``OutSum:InvId:Password2[:Shp_key=value…]``); SuccessURL:
hash(``OutSum:InvId:Password1[:Shp_key=value…]``). ``Shp_`` parameters are
sorted by name; the hash is ``ROBOKASSA_HASH`` (md5, sha256 or sha512) in hex
and compared case-insensitively.
"""

import hashlib
import hmac
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings

ROBOKASSA_URL = "https://auth.robokassa.ru/Merchant/Index.aspx"
HASHES = {"md5", "sha256", "sha512"}


def shp_params(params) -> dict[str, str]:
    """The ``Shp_*`` parameters of a request (Robokassa echoes them back)."""
    return {key: str(params[key]) for key in params if key.lower().startswith("shp_")}


def signature(parts: list[str], shp: dict[str, str] | None = None, *, algorithm: str | None = None) -> str:
    algorithm = (algorithm or settings.ROBOKASSA_HASH).lower()
    if algorithm not in HASHES:
        raise ValueError(f"Unsupported Robokassa hash {algorithm!r}")
    items = list(parts) + [f"{key}={value}" for key, value in sorted((shp or {}).items())]
    return hashlib.new(algorithm, ":".join(items).encode()).hexdigest()


def format_amount(amount: Decimal) -> str:
    return f"{amount:.2f}"


def payment_signature(*, out_sum: str, inv_id: int, shp: dict | None = None) -> str:
    return signature([settings.ROBOKASSA_LOGIN, out_sum, str(inv_id), settings.ROBOKASSA_PASSWORD1], shp)


def result_signature(*, out_sum: str, inv_id: str, shp: dict | None = None) -> str:
    return signature([out_sum, str(inv_id), settings.ROBOKASSA_PASSWORD2], shp)


def success_signature(*, out_sum: str, inv_id: str, shp: dict | None = None) -> str:
    return signature([out_sum, str(inv_id), settings.ROBOKASSA_PASSWORD1], shp)


def signature_matches(expected: str, received: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged value may have them).
    return hmac.compare_digest(expected.lower().encode(), str(received or "").strip().lower().encode())


def payment_base_url() -> str:
    """Robokassa's payment page, or ``ROBOKASSA_PAYMENT_URL`` when set (the local fake in test mode)."""
    return getattr(settings, "ROBOKASSA_PAYMENT_URL", "") or ROBOKASSA_URL


def payment_url(*, amount: Decimal, inv_id: int, description: str, shp: dict | None = None) -> str:
    out_sum = format_amount(amount)
    params = {
        "MerchantLogin": settings.ROBOKASSA_LOGIN,
        "OutSum": out_sum,
        "InvId": str(inv_id),
        "Description": description,
        "SignatureValue": payment_signature(out_sum=out_sum, inv_id=inv_id, shp=shp),
        "Culture": "ru",
        **(shp or {}),
    }
    if settings.ROBOKASSA_IS_TEST:
        params["IsTest"] = "1"
    return f"{payment_base_url()}?{urlencode(params)}"
