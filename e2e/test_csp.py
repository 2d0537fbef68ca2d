"""The Content-Security-Policy in a real browser: every main page and the admin load with no
violation, no console error and no uncaught script error; the revenue charts are drawn.

Each page is opened as the person who uses it. The browser reports every
``securitypolicyviolation`` event back to the test, so an inline script, an
inline style, an event-handler attribute or a host missing from the policy
fails here by name.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect

from billing import services as billing
from billing.tests.factories import PlanFactory
from bookings.tests.factories import BookingFactory, ResourceFactory, open_every_day
from catalog.services import photo_add
from catalog.tests.factories import OrganizationFactory, ServiceFactory
from e2e.charts import chart_drawn
from mailings.models import Mailing
from portal.tests.factories import UserFactory
from portal.tests.images import image_bytes, upload
from portal.tests.mfa import totp_activate
from support.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportCspViolation({
    page: location.pathname + location.search,
    directive: e.effectiveDirective,
    blocked: e.blockedURI,
    source: e.sourceFile + ":" + e.lineNumber,
    sample: e.sample,
  });
});
"""


class BrowserWatch:
    """Collects CSP violations, console errors, uncaught errors and dialogs of one page."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.context.expose_binding("reportCspViolation", lambda _source, v: self.problems.append(f"CSP {v}"))
        page.context.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught error on {page.url}: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text} {message.location}")

    def _dialog(self, dialog):
        self.problems.append(f"dialog on {self.page.url}: {dialog.message}")
        dialog.dismiss()

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        self.page.wait_for_load_state("load")

    def assert_clean(self) -> None:
        # Let late reports (deferred scripts, timers) arrive before judging.
        self.page.wait_for_timeout(300)
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def watch(page):
    return BrowserWatch(page)


def _catalog(owner):
    org = OrganizationFactory(owner=owner, name="Кофейня «Зерно»")
    photo_add(organization=org, by=owner, image=upload(image_bytes(size=(320, 200))), caption="Зал")
    photo_add(organization=org, by=owner, image=upload(image_bytes(size=(320, 200), color=(30, 30, 200))))
    ServiceFactory(organization=org, name="Капучино")
    resource = ResourceFactory(organization=org, name="Столик у окна")
    open_every_day(org)
    return org, resource


def test_user_pages_load_with_no_csp_violation_or_console_error(page, live_server, login, watch, settings):
    settings.SITE_URL = live_server.url
    owner = UserFactory(first_name="Мария", email="maria@example.com")
    org, resource = _catalog(owner)
    booking = BookingFactory(resource=resource, user=owner)
    tomorrow = (timezone.localtime(timezone.now(), org.city.tzinfo) + timedelta(days=1)).date().isoformat()
    ticket = TicketFactory(user=owner)
    PlanFactory(name="Старт")

    # the public pages, as a visitor
    for path in [
        "/",
        reverse("catalog:list"),
        reverse("catalog:detail", args=[org.pk]),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        reverse("support:appeal"),
    ]:
        watch.visit(path)
    # the mobile menu opens (Bootstrap's script runs under the policy)
    watch.visit("/")
    page.get_by_role("button", name="Открыть меню").click()
    expect(page.get_by_role("link", name="Каталог", exact=True)).to_be_visible()

    # the pages of a signed-in user (who also owns the organization)
    login(owner)
    for path in [
        reverse("portal:profile"),
        reverse("support:tickets"),
        reverse("support:ticket_detail", args=[ticket.pk]),
        reverse("bookings:mine"),
        reverse("bookings:detail", args=[booking.pk]),
        reverse("bookings:organization", args=[org.pk]),
        f"{reverse('bookings:organization', args=[org.pk])}?resource={resource.pk}",
        f"{reverse('bookings:confirm')}?resource={resource.pk}&date={tomorrow}&time=12:00",
        reverse("bookings:cancel", args=[booking.pk]),
        reverse("bookings:owner_bookings", args=[org.pk]),
        reverse("bookings:owner_resources", args=[org.pk]),
        reverse("bookings:opening_hours", args=[org.pk]),
        reverse("billing:balance"),
        reverse("billing:plans"),
        reverse("billing:subscriptions"),
        reverse("billing:subscribe", args=[org.pk]),
        reverse("referrals:mine"),
        reverse("catalog:my_organizations"),
        reverse("catalog:edit", args=[org.pk]),
        reverse("catalog:photos", args=[org.pk]),
        reverse("catalog:services", args=[org.pk]),
        reverse("account_email"),
        reverse("account_change_password"),
    ]:
        watch.visit(path)
    # the account menu (a Bootstrap dropdown)
    page.get_by_role("button", name="Открыть меню").click()
    page.get_by_role("button", name="Мария").click()
    expect(page.get_by_role("link", name="Выйти")).to_be_visible()

    watch.assert_clean()


def test_swagger_ui_works_under_the_policy(page, live_server, watch):
    watch.visit(reverse("api-docs"))

    # Swagger UI's own script (served from ?script=) fetched the schema and drew the operations
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible(timeout=60_000)
    # an operation opens, runs against the API (connect-src 'self') and shows the answer
    operation = page.locator(".opblock", has=page.locator("[data-path='/api/v1/billing/plans/']")).first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tr.response .response-col_status")).to_have_text("200")
    watch.assert_clean()


def _admin_paths(staff, mailing, org) -> list[str]:
    paths = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        try:
            paths.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        except NoReverseMatch:
            continue
    return [
        *paths,
        reverse("admin:portal_user_change", args=[staff.pk]),
        reverse("admin:catalog_organization_change", args=[org.pk]),
        reverse("admin:mailings_mailing_add"),
        reverse("admin:bookings_booking_add"),
        reverse("admin:mailings_mailing_change", args=[mailing.pk]),
        reverse("admin:mailings_mailing_cancel", args=[mailing.pk]),
        reverse("admin:support_ticket_changelist") + "?answer=needed",
        reverse("admin:billing_ledgerentry_export"),
        reverse("admin:catalog_organization_export"),
    ]


def test_admin_pages_load_with_no_csp_violation_and_the_charts_are_drawn(page, live_server, admin_login, watch):
    staff = UserFactory(is_staff=True, is_superuser=True, first_name="Ольга")
    owner = UserFactory()
    org, _resource = _catalog(owner)
    billing.balance_credit(user=owner, amount=Decimal("1500.00"), kind="topup")
    billing.balance_grant(user=owner, amount=Decimal("200.00"), reason="Бонус", created_by=staff)
    # A mailing stored with a mutation-XSS payload (as one saved before the sanitiser), now sending:
    # its preview is sanitised and its progress polls with htmx.
    mailing = Mailing.objects.create(
        name="Старая рассылка",
        text="<b>Скидки</b> <tg-spoiler>тайна</tg-spoiler><!--><img src=x onerror=alert(1)>-->",
        send_at=timezone.now() + timedelta(hours=1),
        audience="subscribers",
        channels=["telegram"],
        status=Mailing.Status.SENDING,
    )

    totp_activate(staff)
    admin_login(page, staff)
    for path in _admin_paths(staff, mailing, org):
        watch.visit(path)

    # the mailing's preview shows the sanitised text only; the payload's <img> is not in the page
    watch.visit(reverse("admin:mailings_mailing_change", args=[mailing.pk]))
    preview = page.locator(".mailing-preview .mailing-text")
    expect(preview.locator("b")).to_have_text("Скидки")
    expect(preview.locator("span.tg-spoiler")).to_have_text("тайна")
    assert page.locator(".mailing-preview img").count() == 0
    assert page.evaluate("() => [...document.querySelectorAll('[onerror], [onclick], [onload]')].length") == 0
    # htmx polls the progress (every 2 s) and swaps it in without any violation
    with page.expect_response(lambda r: "/progress/" in r.url, timeout=10_000):
        pass

    # the revenue dashboard: both charts exist and have painted pixels
    watch.visit(reverse("admin:billing_revenuereport_changelist"))
    for canvas in ("chart-daily", "chart-monthly"):
        drawn = chart_drawn(page, canvas)
        assert len(drawn["sums"]) == 3, drawn
        assert drawn["labels"] > 0, drawn
        assert sum(drawn["sums"]) >= 1700, drawn  # the top-up and the grant are in the series
        assert drawn["painted"] > 1000, drawn

    watch.assert_clean()


def test_a_page_with_an_inline_script_is_caught(page, live_server, watch):
    # The watch itself: an inline script on our origin is blocked and reported.
    watch.visit(reverse("account_login"))
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.ran = 1";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(300)

    assert page.evaluate("() => window.ran") is None
    assert any("script-src" in problem for problem in watch.problems), watch.problems
