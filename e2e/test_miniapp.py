"""The Mini App front door in a real browser: a page opened with signed Telegram (fragment) or VK
(query string) launch parameters signs itself in and lands on the clean URL or on the page the start
parameter names; forged data stays anonymous with a message; the webview feels native.

The launch URLs are built the way Telegram and VK build them (portal/tests/miniapp_signing.py signs
them independently of the server's code). Telegram's and VK's native sides are stood in for by what
they expose to the page: ``window.TelegramWebviewProxy`` (events out) and
``Telegram.WebView.receiveEvent`` (events in), and for the vendored vk-bridge the
``ReactNativeWebView`` transport, answered from the test.
"""

import json
import re
from datetime import time, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone
from playwright.sync_api import expect

from bookings.tests.factories import ResourceFactory, open_every_day
from catalog.tests.factories import CityFactory, OrganizationFactory, ServiceFactory
from portal.models import User
from portal.tests.miniapp_signing import BOT_TOKEN, VK_SECRET, telegram_init_data, vk_launch_params

pytestmark = pytest.mark.django_db(transaction=True)

DARK_THEME = {
    "bg_color": "#17212b",
    "secondary_bg_color": "#232e3c",
    "section_bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
}

TELEGRAM_NATIVE = """
window.__tgEvents = [];
window.TelegramWebviewProxy = {
  postEvent: function (type, data) { window.__tgEvents.push([type, data ? JSON.parse(data) : null]); },
};
"""

VK_NATIVE = """
window.__vkCalls = [];
window.ReactNativeWebView = {
  postMessage: function (text) {
    var call = JSON.parse(text);
    window.__vkCalls.push(call);
    var id = call.params && call.params.request_id;
    var answers = {
      VKWebAppInit: {result: true},
      VKWebAppAllowMessagesFromGroup: {result: true},
      VKWebAppShare: {result: [{}]},
    };
    if (answers[call.handler]) {
      setTimeout(function () {
        var data = Object.assign({request_id: id}, answers[call.handler]);
        window.postMessage({type: call.handler + "Result", data: data}, "*");
      }, 10);
    }
  },
};
"""


@pytest.fixture
def miniapp(settings):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "citydesk_bot"
    settings.TELEGRAM_MINIAPP_SHORT_NAME = "app"
    settings.VK_APP_SECRET = VK_SECRET
    settings.VK_APP_ID = "6736218"
    settings.VK_GROUP_ID = "77"
    settings.MINIAPP_AUTH_MAX_AGE = 86400
    return settings


@pytest.fixture
def organization(db):
    city = CityFactory(name="Новосибирск", slug="novosibirsk", timezone="Asia/Novosibirsk")
    organization = OrganizationFactory(
        city=city,
        name="Барбершоп «Борода и Ко» на Красном проспекте",
        address="Красный проспект, 1, вход со двора",
    )
    open_every_day(organization, time(9), time(21))
    ResourceFactory(organization=organization, name="Мастер Артём", kind="specialist")
    ServiceFactory(organization=organization, name="Мужская стрижка", duration_minutes=60, price="1990.00")
    return organization


def telegram_url(path: str, *, user: dict, start_param: str = "", theme: dict | None = None, **extra) -> str:
    init_extra: dict[str, Any] = {"start_param": start_param} if start_param else {}
    fragment = {
        "tgWebAppData": telegram_init_data(user=user, **init_extra, **extra),
        "tgWebAppVersion": "8.0",
        "tgWebAppPlatform": "android",
        "tgWebAppThemeParams": json.dumps(theme or DARK_THEME),
    }
    if start_param:
        fragment["tgWebAppStartParam"] = start_param
    return f"{path}#{urlencode(fragment)}"


def vk_url(path: str, *, user_id: int, start_param: str = "", **extra) -> str:
    return f"{path}?{vk_launch_params(user_id=user_id, **extra)}" + (f"#{start_param}" if start_param else "")


def at(live_server, path: str):
    """The exact URL of ``path`` on the live server (for wait_for_url)."""
    return re.compile("^" + re.escape(live_server.url + path) + "$")


def back_button(page):
    """The last web_app_setup_back_button the page sent to Telegram."""
    events = page.evaluate("window.__tgEvents")
    return [data for name, data in events if name == "web_app_setup_back_button"][-1]


def signed_in_name(page):
    return page.locator("#nav-main .dropdown-toggle")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_telegram_launch_signs_in_lands_on_the_clean_url_with_the_theme(page, miniapp, live_server):
    page.context.add_init_script(TELEGRAM_NATIVE)

    page.goto(telegram_url("/catalog/", user={"id": 4242, "first_name": "Оля", "last_name": "Смирнова"}))

    page.wait_for_url(at(live_server, "/catalog/"))
    expect(signed_in_name(page)).to_have_text("Оля")
    user = SocialAccount.objects.get(provider="telegram", uid="4242").user
    assert user.first_name == "Оля"
    # Telegram's theme colours: the dark theme's background, Bootstrap switched to dark
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
    assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "dark"
    events = [name for name, _data in page.evaluate("window.__tgEvents")]
    assert "web_app_ready" in events
    assert back_button(page) == {"is_visible": False}
    assert no_horizontal_scroll(page)


def test_telegram_back_button_shows_after_a_step_and_goes_back(page, miniapp, organization, live_server):
    page.context.add_init_script(TELEGRAM_NATIVE)
    page.goto(telegram_url("/", user={"id": 4243, "first_name": "Иван"}))
    page.wait_for_url(at(live_server, "/"))
    expect(signed_in_name(page)).to_have_text("Иван")

    page.goto(f"/catalog/{organization.pk}/")

    assert back_button(page) == {"is_visible": True}
    # Telegram's back button: the app calls receiveEvent, the page goes back
    page.evaluate("window.Telegram.WebView.receiveEvent('back_button_pressed')")
    page.wait_for_url(at(live_server, "/"))
    expect(signed_in_name(page)).to_have_text("Иван")
    assert back_button(page) == {"is_visible": False}


def test_telegram_start_param_routes_to_the_organization(page, miniapp, organization, live_server):
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.add_init_script(TELEGRAM_NATIVE)

    page.goto(telegram_url("/", user={"id": 4244, "first_name": "Пётр"}, start_param=f"org_{organization.pk}"))

    page.wait_for_url(at(live_server, f"/catalog/{organization.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Борода и Ко")
    expect(signed_in_name(page)).to_have_text("Пётр")
    # the thumb's main action sticks to the bottom of the screen
    cta = page.locator(".miniapp-cta a")
    expect(cta).to_be_visible()
    expect(cta).to_have_text("Записаться")
    box = cta.bounding_box()
    assert box["y"] + box["height"] <= 740
    assert no_horizontal_scroll(page)


def test_forged_telegram_data_stays_anonymous_with_a_message(page, miniapp, live_server, tmp_path):
    init_data = telegram_init_data(user={"id": 4245, "first_name": "Мэллори"}).replace("4245", "4246")
    fragment = urlencode({"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "ios"})

    page.goto(f"/catalog/#{fragment}")

    page.wait_for_url(at(live_server, "/catalog/"))
    message = page.locator(".miniapp-message")
    expect(message).to_contain_text("Не удалось войти через Telegram")
    expect(message).to_contain_text("Подпись данных запуска неверна")
    page.screenshot(path=str(tmp_path / "telegram-forged-390.png"))
    expect(page.locator("#nav-main").get_by_text("Войти")).to_have_count(1)  # anonymous
    assert not SocialAccount.objects.exists()
    # the message came once: the clean page reloaded shows nothing, and nothing loops
    page.reload()
    expect(page.locator(".miniapp-message")).to_have_count(0)


def test_a_webview_that_drops_the_session_cookie_is_told_once_and_does_not_loop(page, miniapp, live_server):
    """Like a web client's cross-site iframe, where a SameSite=Lax cookie is not stored."""
    posts = []

    def without_cookie(route):
        # the sign-in succeeds, but the browser keeps no cookie from it
        posts.append(route.request.headers["authorization"])
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"id": 1}))

    page.route("**/api/v1/auth/miniapp/", without_cookie)

    page.goto(telegram_url("/catalog/", user={"id": 4247, "first_name": "Ира"}))

    page.wait_for_url(at(live_server, "/catalog/"))
    expect(page.locator(".miniapp-message")).to_contain_text("Это окно не сохранило вход")
    expect(page.locator("#nav-main").get_by_text("Войти")).to_have_count(1)
    page.reload()
    expect(page.locator(".miniapp-message")).to_have_count(0)
    assert len(posts) == 1 and posts[0].startswith("tma ")


def test_expired_vk_data_stays_anonymous_with_a_message(page, miniapp, live_server):
    stale = int(timezone.now().timestamp()) - 2 * 86400

    page.goto(vk_url("/", user_id=5150, ts=stale))

    page.wait_for_url(at(live_server, "/"))
    expect(page.locator(".miniapp-message")).to_contain_text("Не удалось войти через VK")
    expect(page.locator(".miniapp-message")).to_contain_text("устарели")
    assert not User.objects.exists()


def test_vk_launch_signs_in_routes_by_hash_and_follows_the_appearance(
    page, miniapp, organization, live_server, tmp_path
):
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.add_init_script(VK_NATIVE)

    page.goto(vk_url("/", user_id=494075, start_param=f"org_{organization.pk}"))

    page.wait_for_url(at(live_server, f"/catalog/{organization.pk}/"))
    expect(signed_in_name(page)).to_have_text("Мой аккаунт")  # VK's launch data carries no name
    assert SocialAccount.objects.filter(provider="vk", uid="494075").exists()
    calls = [call["handler"] for call in page.evaluate("window.__vkCalls")]
    assert "VKWebAppInit" in calls
    # VK's client switches to dark
    page.evaluate("window.postMessage({type: 'VKWebAppUpdateConfig', data: {appearance: 'dark'}}, '*')")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    # the share action: the VK link opens VK's own share box, with the app's link to this page
    page.get_by_text("Поделиться", exact=True).click()
    expect(page.locator("#share-vk")).to_have_value(f"https://vk.com/app6736218#org_{organization.pk}")
    expect(page.locator("#share-telegram")).to_have_value(
        f"https://t.me/citydesk_bot/app?startapp=org_{organization.pk}"
    )
    page.screenshot(path=str(tmp_path / "vk-organization-360.png"), full_page=True)
    page.get_by_text("Поделиться во ВКонтакте").click()
    page.wait_for_function("window.__vkCalls.some(c => c.handler === 'VKWebAppShare')")
    share = next(c for c in page.evaluate("window.__vkCalls") if c["handler"] == "VKWebAppShare")
    assert share["params"]["link"] == f"https://vk.com/app6736218#org_{organization.pk}"
    assert no_horizontal_scroll(page)


def test_vk_asks_for_messages_right_after_a_booking(page, miniapp, organization, live_server):
    page.context.add_init_script(VK_NATIVE)
    page.goto(vk_url("/", user_id=700700))
    page.wait_for_url(at(live_server, "/"))
    expect(signed_in_name(page)).to_have_text("Мой аккаунт")  # VK's launch data carries no name
    resource = organization.resources.get()
    service = organization.services.get()
    tomorrow = timezone.localtime(timezone.now(), organization.city.tzinfo).date() + timedelta(days=1)
    starts_at = timezone.make_aware(timezone.datetime.combine(tomorrow, time(10)), organization.city.tzinfo)

    # the confirmation form of the booking flow, posted with the webview's session
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        "/bookings/confirm/",
        form={
            "resource": str(resource.pk),
            "service": str(service.pk),
            "date": starts_at.date().isoformat(),
            "time": f"{starts_at:%H:%M}",
        },
        headers={"X-CSRFToken": csrf, "Referer": live_server.url + "/"},
        max_redirects=0,
    )
    assert response.status == 302
    page.goto(response.headers["location"])

    page.wait_for_function("window.__vkCalls.some(c => c.handler === 'VKWebAppAllowMessagesFromGroup')")
    ask = next(c for c in page.evaluate("window.__vkCalls") if c["handler"] == "VKWebAppAllowMessagesFromGroup")
    assert ask["params"]["group_id"] == 77
    expect(page.locator(".miniapp-message")).to_contain_text("напоминания о записях будут приходить")


def test_start_params_route_and_unknown_ones_lead_home(page, miniapp, organization, live_server):
    # a guest with a referral code goes to the signup form with the code
    page.goto("/miniapp/open/?start=ref_ABC234")
    page.wait_for_url(at(live_server, "/accounts/signup/?ref=ABC234"))
    expect(page.locator("input[name=referral_code]")).to_have_value("ABC234")
    # an unknown prefix, a hidden organization and garbage all go home
    for start in ("nope_1", "org_999999", "org_<script>"):
        page.goto(f"/miniapp/open/?start={start}")
        page.wait_for_url(at(live_server, "/"))


@pytest.mark.parametrize("width", [360, 390])
def test_screens_in_the_mini_app(page, miniapp, organization, live_server, tmp_path, width):
    page.set_viewport_size({"width": width, "height": 780})
    page.context.add_init_script(TELEGRAM_NATIVE)
    page.goto(telegram_url("/", user={"id": 4300 + width, "first_name": "Анна"}, start_param=f"org_{organization.pk}"))
    page.wait_for_url(at(live_server, f"/catalog/{organization.pk}/"))
    pages = {
        "home": "/",
        "catalog": "/catalog/",
        "organization": f"/catalog/{organization.pk}/",
        "slots": f"/bookings/organization/{organization.pk}/",
        "profile": "/profile/",
    }
    for name, path in pages.items():
        page.goto(path)
        assert no_horizontal_scroll(page), f"{path} scrolls sideways at {width} px"
        page.screenshot(path=str(tmp_path / f"telegram-{name}-{width}.png"), full_page=True)
    page.goto(f"/catalog/{organization.pk}/")
    page.get_by_text("Поделиться", exact=True).click()
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(tmp_path / f"telegram-share-{width}.png"), full_page=True)
