"""The site speaks Russian by default and English on request.

Also checks the project catalog (locale/, for templates/) is complete and
compiled: every string the site templates translate has a Russian .mo entry.
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PO = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
PROJECT_MO = PROJECT_PO.with_suffix(".mo")

pytestmark = pytest.mark.django_db

RUSSIAN = {
    "/": ["Все услуги вашего города в одном месте", "Как это работает", "Войти", "Регистрация"],
    "/accounts/login/": ["Войти", "Пароль", "Регистрация"],
    "/accounts/signup/": ["Регистрация", "Пароль", "Войти"],
}
ENGLISH = {
    "/": ["Everything your city offers, in one place", "How it works", "Log in", "Sign up"],
    "/accounts/login/": ["Sign In", "Password"],
    "/accounts/signup/": ["Sign Up", "Password"],
}


@pytest.mark.parametrize("path", sorted(RUSSIAN))
def test_pages_are_russian_by_default(client, path):
    response = client.get(path)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in html
    for text in RUSSIAN[path]:
        assert text in html, f"{path}: {text!r} missing"
    assert "Everything your city offers" not in html


@pytest.mark.parametrize("path", sorted(ENGLISH))
def test_accept_language_en_gives_english(client, path):
    response = client.get(path, headers={"accept-language": "en"})

    html = response.content.decode()
    assert '<html lang="en">' in html
    for text in ENGLISH[path]:
        assert text in html, f"{path}: {text!r} missing"
    assert "Все услуги вашего города" not in html


def test_language_switch_in_the_footer_remembers_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302

    html = client.get("/").content.decode()

    assert "Everything your city offers, in one place" in html
    assert "Русский" in html  # the switch back


def test_unknown_language_falls_back_to_russian(client):
    html = client.get("/", headers={"accept-language": "de-DE,de;q=0.9"}).content.decode()

    assert '<html lang="ru">' in html
    assert "Все услуги вашего города в одном месте" in html


def test_404_page_is_russian(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()


def _template_msgids() -> set[tuple[str | None, str]]:
    """(context, msgid) of every {% translate "…" %} in templates/."""
    found = set()
    pattern = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1(?:\s+context\s+(["'])(.+?)\3)?[^%]*%}""")
    for template in (ROOT / "templates").rglob("*.html"):
        for match in pattern.finditer(template.read_text()):
            found.add((match.group(4), match.group(2)))
    return found


def test_project_catalog_translates_every_template_string():
    catalog = gettext.GNUTranslations(PROJECT_MO.open("rb"))
    msgids = _template_msgids()
    assert len(msgids) > 20

    missing = []
    for context, msgid in sorted(msgids, key=lambda item: item[1]):
        key = f"{context}\x04{msgid}" if context else msgid
        if key not in catalog._catalog or not catalog._catalog[key]:
            missing.append(msgid)
    assert not missing, f"add these to locale/ru (make messages): {missing}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs GNU gettext")
def test_project_catalog_has_nothing_fuzzy_or_untranslated():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PROJECT_PO)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


def test_project_catalog_holds_only_site_template_strings():
    """App strings belong in <app>/locale/: makemessages run in an app folder without its own
    locale/ writes into this catalog (the first LOCALE_PATHS entry) instead."""
    references = re.findall(r"^#: (.+)$", PROJECT_PO.read_text(), flags=re.M)
    sources = {ref.rsplit(":", 1)[0] for line in references for ref in line.split()}

    strays = sorted(source for source in sources if not source.startswith("templates/"))
    assert not strays, (
        f"{PROJECT_PO.relative_to(ROOT)} has strings from {strays}: create <app>/locale/ and run "
        "`python scripts/messages.py <app>` (or makemessages inside the app), then restore this file"
    )
