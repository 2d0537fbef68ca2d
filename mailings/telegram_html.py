"""Telegram's HTML subset: validation, visible length, plain-text rendering."""

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
}
BUTTON_URL_SCHEMES = {"http", "https", "tg"}
LINK_SCHEMES = {"http", "https", "tg", "mailto"}
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096


class TelegramHTMLError(ValueError):
    pass


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ALLOWED_TAGS:
            raise TelegramHTMLError(_("Tag <%(tag)s> is not allowed by Telegram.") % {"tag": tag})
        if tag == "span" and attrs != {"class": "tg-spoiler"}:
            raise TelegramHTMLError(_('Only <span class="tg-spoiler"> is allowed.'))
        if tag == "a":
            if set(attrs) - {"href"}:
                raise TelegramHTMLError(_("Tag <a> takes only href."))
            href = attrs.get("href") or ""
            if urlsplit(href).scheme.lower() not in LINK_SCHEMES:
                raise TelegramHTMLError(_("Link %(href)s must start with http://, https:// or tg://.") % {"href": href})
            self._href, self._link_text = href, []
        elif tag == "code":
            if set(attrs) - {"class"}:
                raise TelegramHTMLError(_("Tag <code> takes only a language class."))
        elif tag == "blockquote":
            if set(attrs) - {"expandable"}:
                raise TelegramHTMLError(_("Tag <blockquote> takes no attributes but expandable."))
        elif tag != "span" and attrs:
            raise TelegramHTMLError(_("Tag <%(tag)s> takes no attributes.") % {"tag": tag})
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        raise TelegramHTMLError(_("Tag <%(tag)s/> is not allowed by Telegram.") % {"tag": tag})

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(_("Closing tag </%(tag)s> does not match.") % {"tag": tag})
        self.stack.pop()
        if tag == "a":
            self.links.append(("".join(self._link_text), self._href or ""))
            self._href = None

    def handle_data(self, data):
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data)


def _parse(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise TelegramHTMLError(_("Tag <%(tag)s> is not closed.") % {"tag": checker.stack[-1]})
    return checker


def validate_html(text: str) -> None:
    """Raise TelegramHTMLError when Telegram would refuse ``text`` in HTML parse mode."""
    if not text.strip():
        raise TelegramHTMLError(_("The text is empty."))
    if visible_length(text) > TEXT_LIMIT:
        raise TelegramHTMLError(_("The text is longer than %(n)s characters.") % {"n": TEXT_LIMIT})


def visible_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text without markup."""
    plain = "".join(_parse(text).text)
    return len(plain.encode("utf-16-le")) // 2


def to_plain_text(text: str) -> str:
    """The text without markup; links as "text (url)" (for VK and plain email)."""
    checker = _Checker()
    parts: list[str] = []

    class _Plain(_Checker):
        def handle_endtag(self, tag):
            href = self._href
            super().handle_endtag(tag)
            if tag == "a" and href and href != "".join(self.links[-1][0]):
                parts.append(f" ({href})")

        def handle_data(self, data):
            super().handle_data(data)
            parts.append(data)

    checker = _Plain()
    checker.feed(text)
    checker.close()
    return "".join(parts).strip()


def validate_button_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in BUTTON_URL_SCHEMES or not (parts.netloc or parts.scheme == "tg"):
        raise TelegramHTMLError(_("Button link %(url)s must be an http://, https:// or tg:// URL.") % {"url": url})


def escape(text: str) -> str:
    return html.escape(text, quote=False)
