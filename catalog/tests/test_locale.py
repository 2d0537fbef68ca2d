from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext, ngettext

PO = Path(__file__).resolve().parents[1] / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_russian_catalog_is_complete():
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first block is the header
    untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""') or 'msgstr[0] ""' in e]
    assert untranslated == []
    assert "#, fuzzy" not in text


def test_russian_messages_are_used():
    with translation.override("ru"):
        assert gettext("Not listed: buy a subscription.") == "Не размещена в каталоге: оформите подписку."
        assert gettext("Unknown city “%(city)s”.") % {"city": "Урюпинск"} == "Неизвестный город «Урюпинск»."
        found = ngettext("%(counter)s organization found", "%(counter)s organizations found", 5)
        assert found % {"counter": 5} == "Найдено 5 организаций"
