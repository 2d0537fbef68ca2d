from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _


def site(request):
    """Values every template may need."""
    return {
        "SITE_URL": settings.SITE_URL,
        "TELEGRAM_BOT_USERNAME": settings.TELEGRAM_BOT_USERNAME,
        "miniapp_config": miniapp_config(request),
    }


def _vk_group_id() -> int | None:
    value = str(settings.VK_GROUP_ID or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def miniapp_config(request) -> dict:
    """What static/js/miniapp.js needs (the base layout renders it with json_script)."""
    user = getattr(request, "user", None)
    return {
        "authUrl": reverse("api:auth-miniapp"),
        "openUrl": reverse("portal:miniapp_open"),
        "vkBridgeUrl": static("vendor/vk-bridge/browser.min.js"),
        "vkGroupId": _vk_group_id(),
        "authenticated": bool(user is not None and user.is_authenticated),
        "messages": {
            "signInFailed": _(
                "We could not sign you in with %(platform)s: %(reason)s You can go on browsing as a guest "
                "or reopen the Mini App."
            ),
            "sessionNotStored": _(
                "This window did not keep your sign-in. Open Citydesk from the Telegram or VK mobile app, "
                "or log in with your email."
            ),
            "offline": _("No connection to Citydesk: you are browsing as a guest. Reopen the Mini App to sign in."),
            "vkMessagesAllowed": _("Done: reminders about your bookings will come in VK messages."),
            "close": _("Close"),
        },
    }
