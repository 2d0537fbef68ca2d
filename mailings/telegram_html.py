"""Telegram's HTML subset: sanitising, validation, visible length, plain text.

Mailing texts are written by staff and shown in the admin preview, sent to
Telegram, and turned into plain text for VK and email. Every one of those
uses ``sanitize()``: nh3 (html5ever, the HTML5 parsing algorithm browsers
use) parses the text and keeps only Telegram's tags and attributes, so what
a browser would parse out of the text is what gets checked — no comment,
``<svg>``/``<math>`` or ``<noscript>`` trick survives it.

``validate_html()`` is stricter: it refuses any text the sanitiser would
change, naming the offending tag or attribute, so staff see the problem
instead of having part of their text silently dropped.

The sanitised output is nh3's serialisation: every ``<`` starts a tag, tags
are balanced, attribute values are double-quoted with ``<``, ``>``, ``&`` and
``"`` escaped. The helpers below rely on that when they walk it.
"""

import html
import re
from urllib.parse import urlsplit

import nh3
from django.utils.translation import gettext as _

ALLOWED_TAGS = frozenset(
    {
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
        "tg-emoji",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "code": {"class"}, "blockquote": {"expandable"}, "tg-emoji": {"emoji-id"}}
LINK_SCHEMES = frozenset({"http", "https", "tg"})
BUTTON_URL_SCHEMES = LINK_SCHEMES
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096

_CODE_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,32}")
_EMOJI_ID = re.compile(r"[0-9]{1,32}")
# Anything the HTML tokenizer reads as a comment, a doctype or a processing
# instruction: "<!", "<?", and "</" not followed by a letter.
_COMMENT_LIKE = re.compile(r"<(?:!|\?|/(?![A-Za-z]))")
# A tag in the raw text, as the HTML tokenizer starts one: "<" or "</" then a letter.
# Quoted attribute values may contain ">".
_RAW_TAG = re.compile(r"""<(/?)([A-Za-z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_RAW_TAG_START = re.compile(r"</?([A-Za-z][^\s/>]*)")
_RAW_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
# A tag in nh3's output (see the module docstring).
_TAG = re.compile(r"<(/?)([a-z][a-z0-9-]*)([^>]*)>")
_ATTRIBUTE = re.compile(r'([a-z-]+)(?:="([^"]*)")?')


class TelegramHTMLError(ValueError):
    pass


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter for the attributes ALLOWED_ATTRIBUTES lets through."""
    if tag == "code" and attribute == "class":
        return value if _CODE_LANGUAGE.fullmatch(value) else None
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value if _EMOJI_ID.fullmatch(value) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    allowed_classes={"span": {"tg-spoiler"}},
    attribute_filter=_keep_attribute,
    url_schemes=set(LINK_SCHEMES),
    url_relative="deny",  # Telegram needs absolute links
    link_rel=None,  # Telegram's <a> takes href only
    strip_comments=True,
)


def _clean(text: str) -> tuple[str, list[str]]:
    """nh3's output, without the elements that would be empty shells for Telegram.

    A ``<span>`` that lost its class and an ``<a>`` that lost its href are
    unwrapped (their text kept); the second value names them.
    """
    cleaned = _CLEANER.clean(text)
    unwrapped: list[str] = []
    parts: list[str] = []
    dropping: dict[str, list[bool]] = {"span": [], "a": []}
    for piece in re.split(r"(<[^>]*>)", cleaned):
        match = _TAG.fullmatch(piece)
        if match is None or match.group(2) not in dropping:
            parts.append(piece)
            continue
        closing, tag, attributes = match.groups()
        if closing:
            if not dropping[tag].pop():
                parts.append(piece)
            continue
        # A span keeps only the spoiler class (nh3 may leave class=""); a link needs its href.
        empty = ('class="tg-spoiler"' not in attributes) if tag == "span" else ("href=" not in attributes)
        dropping[tag].append(empty)
        if empty:
            unwrapped.append(tag)
        else:
            parts.append(piece)
    # Telegram knows only the &lt; &gt; &amp; &quot; named entities.
    result = "".join(parts).replace("&nbsp;", "\u00a0")
    return result.replace('<blockquote expandable="">', "<blockquote expandable>"), unwrapped


def sanitize(text: str) -> str:
    """``text`` reduced to Telegram's HTML subset, safe to send and to show in a page."""
    return _clean(text or "")[0]


def _walk(cleaned: str):
    """Yield ("start", tag, attrs), ("end", tag, {}) and ("text", text, {}) over sanitised HTML."""
    for piece in re.split(r"(<[^>]*>)", cleaned):
        if not piece:
            continue
        match = _TAG.fullmatch(piece)
        if match is None:
            yield "text", html.unescape(piece), {}
        elif match.group(1):
            yield "end", match.group(2), {}
        else:
            attrs = {name: html.unescape(value or "") for name, value in _ATTRIBUTE.findall(match.group(3))}
            yield "start", match.group(2), attrs


def _tag_sequence(cleaned: str) -> list[tuple[bool, str]]:
    return [(bool(m.group(1)), m.group(2)) for m in _TAG.finditer(cleaned)]


def validate_html(text: str) -> None:
    """Raise TelegramHTMLError unless ``text`` is already in Telegram's HTML subset.

    The text is refused when sanitising would change it: a tag or attribute
    Telegram does not know, a comment, a link that is not http(s)/tg, a tag
    left open or closed out of order.
    """
    text = text or ""
    if not text.strip():
        raise TelegramHTMLError(_("The text is empty."))
    if _COMMENT_LIKE.search(text):
        raise TelegramHTMLError(_("HTML comments and <!…> declarations are not allowed; write < as &lt;."))
    tag_starts = list(_RAW_TAG_START.finditer(text))
    for match in tag_starts:
        tag = match.group(1).lower()
        if tag not in ALLOWED_TAGS:
            raise TelegramHTMLError(_("Tag <%(tag)s> is not allowed by Telegram.") % {"tag": tag})
    raw_tags = list(_RAW_TAG.finditer(text))
    if [m.start() for m in tag_starts] != [m.start() for m in raw_tags]:
        raise TelegramHTMLError(_("A tag is not finished with >; write a lone < as &lt;."))

    stack: list[str] = []
    for match in raw_tags:
        closing, tag = bool(match.group(1)), match.group(2).lower()
        if not closing:
            stack.append(tag)
        elif not stack or stack[-1] != tag:
            raise TelegramHTMLError(_("Closing tag </%(tag)s> does not match.") % {"tag": tag})
        else:
            stack.pop()
    if stack:
        raise TelegramHTMLError(_("Tag <%(tag)s> is not closed.") % {"tag": stack[-1]})

    # Parse once more keeping every attribute, to see what the sanitiser would drop.
    seen: list[tuple[str, str, str]] = []

    def spy(tag, attribute, value):
        seen.append((tag, attribute, value))
        return value

    lenient = nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={},
        generic_attribute_prefixes={""},  # every attribute
        attribute_filter=spy,
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",
        link_rel=None,
        strip_comments=False,
    ).clean(text)
    for tag, attribute, value in seen:
        _check_attribute(tag, attribute, value)

    _cleaned, unwrapped = _clean(text)
    if "span" in unwrapped:
        raise TelegramHTMLError(_('Only <span class="tg-spoiler"> is allowed.'))
    if "a" in unwrapped:
        raise TelegramHTMLError(_bad_link_message(raw_tags))
    if (
        _tag_sequence(lenient) != [(bool(m.group(1)), m.group(2).lower()) for m in raw_tags]
        or _CLEANER.clean(text) != lenient
    ):
        # The browser's parser reads the tags differently from how they are written.
        raise TelegramHTMLError(_("The text contains markup Telegram does not accept."))
    if visible_length(text) > TEXT_LIMIT:
        raise TelegramHTMLError(_("The text is longer than %(n)s characters.") % {"n": TEXT_LIMIT})


def _check_attribute(tag: str, attribute: str, value: str) -> None:
    if tag == "span":
        if attribute != "class" or value != "tg-spoiler":
            raise TelegramHTMLError(_('Only <span class="tg-spoiler"> is allowed.'))
        return
    allowed = ALLOWED_ATTRIBUTES.get(tag, set())
    if attribute not in allowed:
        if not allowed:
            raise TelegramHTMLError(
                _("Tag <%(tag)s> takes no attributes (%(attribute)s).") % {"tag": tag, "attribute": attribute}
            )
        raise TelegramHTMLError(
            _("Tag <%(tag)s> takes only %(allowed)s, not %(attribute)s.")
            % {"tag": tag, "allowed": ", ".join(sorted(allowed)), "attribute": attribute}
        )
    if _keep_attribute(tag, attribute, value) is None:
        if tag == "code":
            raise TelegramHTMLError(_('Tag <code> takes only a class="language-…".'))
        raise TelegramHTMLError(_("Tag <tg-emoji> needs a numeric emoji-id."))


def _bad_link_message(raw_tags) -> str:
    for match in raw_tags:
        if match.group(1) or match.group(2).lower() != "a":
            continue
        found = _RAW_HREF.search(match.group(3))
        href = html.unescape(next((g for g in found.groups() if g is not None), "")) if found else ""
        if not href or urlsplit(href.strip()).scheme.lower() not in LINK_SCHEMES:
            return _("Link %(href)s must start with http://, https:// or tg://.") % {"href": href or "<a>"}
    return _("A link must start with http://, https:// or tg://.")


def visible_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units of the text without markup."""
    plain = "".join(value for kind, value, _attrs in _walk(sanitize(text)) if kind == "text")
    return len(plain.encode("utf-16-le")) // 2


def to_plain_text(text: str) -> str:
    """The text without markup; links as "text (url)" (for VK and plain email)."""
    parts: list[str] = []
    links: list[tuple[str, int]] = []
    for kind, value, attrs in _walk(sanitize(text)):
        if kind == "text":
            parts.append(value)
        elif kind == "start" and value == "a":
            links.append((attrs.get("href", ""), len(parts)))
        elif kind == "end" and value == "a" and links:
            href, start = links.pop()
            if href and href != "".join(parts[start:]):
                parts.append(f" ({href})")
    return "".join(parts).strip()


def to_preview_html(text: str) -> str:
    """Sanitised HTML for a browser page: Telegram's spoiler tag as a styled span.

    Nothing but ``sanitize()``'s output reaches the page; newlines are kept by
    the preview's ``white-space`` style.
    """
    cleaned = sanitize(text)
    return cleaned.replace("<tg-spoiler>", '<span class="tg-spoiler">').replace("</tg-spoiler>", "</span>")


def validate_button_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in BUTTON_URL_SCHEMES or not (parts.netloc or parts.scheme == "tg"):
        raise TelegramHTMLError(_("Button link %(url)s must be an http://, https:// or tg:// URL.") % {"url": url})


def escape(text: str) -> str:
    return html.escape(text, quote=False)
