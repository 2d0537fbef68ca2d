"""Content-Security-Policy: scripts only from our static files, framing only where a Mini App needs it.

The browser walk in e2e/test_csp.py loads the pages and watches for
violations; these tests pin the header itself and the markup it relies on.
"""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.tests.factories import PlanFactory
from catalog.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_user_pages_allow_only_our_scripts_and_the_mini_app_frames(client):
    response = client.get(reverse("account_login"))

    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["form-action"][0] == "'self'"
    assert "https://web.telegram.org" in csp["frame-ancestors"]
    assert "https://*.vk.com" in csp["frame-ancestors"]
    assert "X-Frame-Options" not in response.headers
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def test_the_top_up_may_post_on_to_robokassa(client):
    # The top-up form posts here and is redirected to Robokassa's page: form-action covers the redirect.
    response = client.get(reverse("account_login"))

    assert "https://auth.robokassa.ru" in policy(response)["form-action"]


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/api/docs/", "/api/schema/", "/api/v1/catalog/"])
def test_nobody_frames_the_admin_and_the_api(client, path):
    response = client.get(path)

    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_admin_of_a_staff_member_cannot_be_framed(staff_client):
    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_redirects_carry_the_policy_too(client):
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert policy(response)["script-src"] == ["'self'"]


class _Markup(HTMLParser):
    """Inline scripts, event-handler attributes, javascript: URLs and inline styles in a page."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self._in_inline_script = True
            self.problems.append(f"inline <script {attrs}>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value}>")


def inline_code(html: str) -> list[str]:
    scan = _Markup()
    scan.feed(html)
    return scan.problems


def test_user_pages_carry_no_inline_script_or_style(client, user):
    org = OrganizationFactory()
    anonymous = [
        "/",
        reverse("catalog:list"),
        reverse("catalog:detail", args=[org.pk]),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
    ]
    for path in anonymous:
        response = client.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path

    client.force_login(user)
    for path in [
        reverse("portal:profile"),
        reverse("support:tickets"),
        reverse("bookings:mine"),
        reverse("billing:balance"),
        reverse("referrals:mine"),
        reverse("account_email"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path


def test_swagger_ui_loads_its_init_script_from_a_url(client):
    page = client.get(reverse("api-docs"))

    html = page.content.decode()
    assert inline_code(html) == []
    [script_url] = re.findall(r'<script src="([^"]*\?[^"]*script[^"]*)"', html)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


def test_admin_pages_carry_no_inline_script_or_style(staff_client):
    from mailings.models import Mailing
    from mailings.services import mailing_create

    PlanFactory()
    mailing = mailing_create(
        name="Акция",
        text="<b>Скидки</b>",
        send_at=timezone.now() + timedelta(hours=1),
        audience="subscribers",
        channels=["telegram"],
    )
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    for path in [
        reverse("admin:index"),
        reverse("admin:mailings_mailing_change", args=[mailing.pk]),
        reverse("admin:mailings_mailing_add"),
        reverse("admin:billing_revenuereport_changelist"),
    ]:
        response = staff_client.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path


def test_revenue_chart_data_is_json_of_an_object_not_of_a_string(staff_client):
    # The data used to be JSON-encoded twice: the script parsed a string and drew nothing.
    response = staff_client.get(reverse("admin:billing_revenuereport_changelist"))

    match = re.search(
        r'<script id="revenue-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    data = json.loads(match.group(1))
    assert isinstance(data, dict)
    assert set(data) == {"daily", "monthly", "series"}
    assert len(data["daily"]["labels"]) == len(data["daily"]["topups"]) > 0


def _settings(env: dict, expr: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_", "TELEGRAM_", "ROBOKASSA_"))}
    clean.update(env)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup(); "
        f"from django.conf import settings as s; print({expr})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_images_from_s3_and_the_configured_login_providers_are_allowed():
    directives = _settings(
        {
            "AWS_STORAGE_BUCKET_NAME": "media",
            "AWS_S3_ENDPOINT_URL": "https://storage.example.ru:9000/",
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "ROBOKASSA_PAYMENT_URL": "https://pay.example.ru/Merchant/Index.aspx",
        },
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']",
    )

    assert "'img-src': [\"'self'\", 'data:', 'https://storage.example.ru:9000']" in directives
    assert (
        "'form-action': [\"'self'\", 'https://auth.robokassa.ru', 'https://pay.example.ru', 'https://oauth.telegram.org']"
        in directives
    )


def test_without_s3_or_providers_only_our_own_hosts():
    directives = _settings({}, "s.CONTENT_SECURITY_POLICY['DIRECTIVES']")

    assert "'img-src': [\"'self'\", 'data:']" in directives
    assert "telegram.org'" not in directives.split("'form-action'")[1].split("]")[0]
