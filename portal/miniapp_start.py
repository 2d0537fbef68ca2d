"""Mini App start parameters: which page ``org_<id>``, ``booking_<id>`` or ``ref_<code>`` opens,
and the links that launch the Mini Apps with one.

A Mini App is launched with a start parameter: Telegram's ``startapp`` (in the
signed ``initData`` as ``start_param`` and in the URL fragment as
``tgWebAppStartParam``), VK's hash after the app address
(``https://vk.com/app<id>#org_1``). portal owns the mapping from a start
parameter to a page, but not the pages: catalog, bookings and referrals
register a resolver for their prefix at ``AppConfig.ready()``::

    start_param_register(prefix="org_", resolver=organization_start_url)

``resolver(*, user, argument) -> str | None`` gets the rest of the parameter
(``"12"`` for ``org_12``) and the visitor (possibly anonymous) and answers a
site path, or None when the argument names nothing the visitor may open. A
parameter that is malformed, has no resolver or resolves to nothing leads home.

This module imports no other app, so registering is cheap.
"""

import re
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

# Telegram allows A-Z, a-z, 0-9, _ and - in startapp (up to 512 characters); ours are short.
START_PARAM_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")

StartParamResolver = Callable[..., str | None]

_resolvers: dict[str, StartParamResolver] = {}


def start_param_register(*, prefix: str, resolver: StartParamResolver) -> None:
    """Let a start parameter ``<prefix><argument>`` open the page ``resolver`` answers."""
    _resolvers[prefix] = resolver


def start_param_is_valid(start_param: str) -> bool:
    return isinstance(start_param, str) and START_PARAM_FORMAT.fullmatch(start_param) is not None


def start_param_url(*, start_param: str, user) -> str:
    """The site path a Mini App start parameter opens for ``user``; the home page when it names nothing."""
    home = reverse("home")
    if not start_param_is_valid(start_param):
        return home
    for prefix, resolver in _resolvers.items():
        if start_param.startswith(prefix) and len(start_param) > len(prefix):
            url = resolver(user=user, argument=start_param[len(prefix) :])
            # Only a path on this site: a resolver's mistake must not make an open redirect.
            if isinstance(url, str) and url.startswith("/") and not url.startswith(("//", "/\\")):
                return url
            return home
    return home


def miniapp_share_links(*, start_param: str) -> dict[str, str]:
    """The links that open the Telegram and VK Mini Apps on ``start_param``.

    ``telegram``: ``https://t.me/<TELEGRAM_BOT_USERNAME>/<TELEGRAM_MINIAPP_SHORT_NAME>?startapp=<param>``
    (the app registered with BotFather's /newapp), or ``https://t.me/<bot>?startapp=<param>`` (the
    bot's main Mini App) without a short name. ``vk``: ``https://vk.com/app<VK_APP_ID>#<param>``.
    A platform whose setting is empty is left out.
    """
    if not start_param_is_valid(start_param):
        return {}
    links = {}
    bot = settings.TELEGRAM_BOT_USERNAME
    if bot:
        short_name = settings.TELEGRAM_MINIAPP_SHORT_NAME
        path = f"{quote(bot)}/{quote(short_name)}" if short_name else quote(bot)
        links["telegram"] = f"https://t.me/{path}?startapp={start_param}"
    if settings.VK_APP_ID:
        links["vk"] = f"https://vk.com/app{quote(str(settings.VK_APP_ID))}#{start_param}"
    return links
