"""Mailing HTML: parsed as a browser parses it, reduced to Telegram's subset, refused when it carries more.

The payloads are the known mutation-XSS and parser-confusion tricks: each one
either fooled a non-HTML5 check (Python's HTMLParser read the first one as a
harmless comment) or turns into script when a browser re-parses it.
"""

from datetime import timedelta
from html.parser import HTMLParser

import nh3
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from mailings.models import Mailing
from mailings.services import mailing_create, mailings_dispatch_due
from mailings.telegram_html import (
    TelegramHTMLError,
    sanitize,
    to_plain_text,
    to_preview_html,
    validate_html,
    visible_length,
)
from mailings.tests.factories import BotSubscriberFactory
from portal.errors import ValidationError

# (payload, what the refusal names)
XSS_PAYLOADS = [
    ("<!--><img src=x onerror=alert(1)>-->", "comments"),
    ("<!---><img src=x onerror=alert(1)>-->", "comments"),
    ("<b>x</b><!-- --!><img src=x onerror=alert(1)> -->", "comments"),
    ("<?xml ?><img src=x onerror=alert(1)>", "comments"),
    ("</ x><img src=x onerror=alert(1)>", "comments"),
    ("<svg><style><img src=x onerror=alert(1)></style></svg>", "<svg>"),
    ('<svg><p><style><a id="</style><img src=1 onerror=alert(1)>">', "<svg>"),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', "<noscript>"),
    (
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        "<math>",
    ),
    (
        '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>">',
        "<math>",
    ),
    ("<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>", "<form>"),
    ("<image src=x onerror=alert(1)>", "<image>"),
    ("<script>alert(1)</script>", "<script>"),
    ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', "<iframe>"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:alert(1)"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "JaVaScRiPt:alert(1)"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "javascript:alert(1)"),
    ('<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&colon;alert(1)">x</a>', "javascript:"),
    ('<a href="jav&#x09;ascript:alert(1)">x</a>', "ascript:alert(1)"),
    ('<a href=" javascript:alert(1)">x</a>', "javascript:alert(1)"),
    ('<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>', "data:"),
    ('<a href="vbscript:msgbox(1)">x</a>', "vbscript:"),
    ('<a href="//evil.example/">x</a>', "//evil.example/"),
    ('<b onclick="alert(1)">x</b>', "onclick"),
    ("<b\nonmouseover=alert(1)>x</b>", "onmouseover"),
    ('<a href="https://citydesk.example" onclick="steal()">x</a>', "onclick"),
    ('<span class="tg-spoiler" onmouseover="alert(1)">x</span>', "tg-spoiler"),
    ('<code class="language-x" style="background:url(javascript:alert(1))">x</code>', "style"),
    ('<code class="x onmouseover=alert(1)">x</code>', "language-"),
    ('<blockquote expandable onfocus="alert(1)" tabindex="1">x</blockquote>', "onfocus"),
    ('<tg-emoji emoji-id="1" onclick="alert(1)">x</tg-emoji>', "onclick"),
    ("<b><i>unclosed", "<i>"),
    ("<b><i>x</b></i>", "</b>"),
    ("</b>x", "</b>"),
    ('<a href="https://a.example">a<a href="https://b.example">b</a></a>', "markup"),
    ("x <b onclick=alert(1)", "<"),
]

ALLOWED_TEXT = (
    "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins><s>s</s><strike>s</strike><del>d</del>"
    '<span class="tg-spoiler">sp</span><tg-spoiler>t</tg-spoiler><a href="https://x.example/?a=1&amp;b=2">a</a>'
    '<a href="tg://resolve?domain=citydesk_bot">bot</a><code>c</code>'
    '<pre><code class="language-python">print(1 &lt; 2)</code></pre><blockquote>q</blockquote>'
    '<blockquote expandable>long</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    " &lt;3 5 &gt; 4 Q&amp;A\nвторая строка"
)

# What a browser may find in the preview: Telegram's tags as the preview renders them.
PREVIEW_CLEANER = nh3.Cleaner(
    tags={"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "a", "code", "pre", "blockquote"}
    | {"tg-emoji"},
    clean_content_tags=set(),
    attributes={"a": {"href"}, "code": {"class"}, "blockquote": {"expandable"}, "tg-emoji": {"emoji-id"}},
    allowed_classes={"span": {"tg-spoiler"}},
    url_schemes={"http", "https", "tg"},
    url_relative="deny",
    link_rel=None,
)


def _preview_is_inert(preview: str) -> None:
    """Parsed again as a browser would, the preview holds only Telegram's elements and attributes."""
    lowered = preview.lower()
    for needle in ("<img", "<svg", "<math", "<script", "<style", "<iframe", "<noscript", "onerror", "javascript:"):
        assert needle not in lowered, preview
    assert (
        PREVIEW_CLEANER.clean(preview).replace("&nbsp;", "\u00a0").replace('expandable=""', "expandable") == preview
    ), preview


@pytest.mark.parametrize(("payload", "named"), XSS_PAYLOADS)
def test_payloads_are_refused_with_a_reason_naming_the_culprit(payload, named):
    with pytest.raises(TelegramHTMLError) as info:
        validate_html(payload)

    assert named.lower() in str(info.value).lower() or named in ("comments", "markup", "<"), str(info.value)


@pytest.mark.parametrize(("payload", "_named"), XSS_PAYLOADS)
def test_payloads_sanitise_to_nothing_executable(payload, _named):
    cleaned = sanitize(payload)

    _preview_is_inert(cleaned)
    _preview_is_inert(to_preview_html(payload))
    assert sanitize(cleaned) == cleaned  # a fixpoint: re-parsing changes nothing


def test_the_comment_confusion_payload_was_text_to_the_old_check_and_is_gone_now():
    # HTMLParser read "<!-->" as an empty comment and "<img …>" as text-free markup it
    # never looked at; a browser reads "<!-->" as a whole comment and runs the <img>.
    cleaned = sanitize("<!--><img src=x onerror=alert(1)>-->")

    assert cleaned == "--&gt;"


def test_refusal_messages_name_the_tag_or_attribute():
    cases = {
        "<div>x</div>": "Tag <div> is not allowed by Telegram.",
        '<b onclick="x()">x</b>': "Tag <b> takes no attributes (onclick).",
        '<a href="https://x.example" title="t">x</a>': "Tag <a> takes only href, not title.",
        '<a href="javascript:alert(1)">x</a>': "Link javascript:alert(1) must start with http://, https:// or tg://.",
        "<b>open": "Tag <b> is not closed.",
        '<span class="red">x</span>': 'Only <span class="tg-spoiler"> is allowed.',
    }
    for text, message in cases.items():
        with translation.override("en"), pytest.raises(TelegramHTMLError) as info:
            validate_html(text)
        assert str(info.value) == message


def test_telegrams_whole_subset_passes_and_survives_sanitising():
    validate_html(ALLOWED_TEXT)

    assert sanitize(ALLOWED_TEXT) == ALLOWED_TEXT


def test_sanitised_text_uses_only_entities_telegram_knows():
    text = "a\u00a0b &nbsp; <b>c</b> Don&#x27;t"

    validate_html(text)
    assert sanitize(text) == "a\u00a0b \u00a0 <b>c</b> Don't"


def test_plain_text_and_length_come_from_the_sanitised_text():
    text = '<b>Скидки</b> <a href="https://x.example/">здесь</a> &lt;3<img src=x onerror=alert(1)>'

    assert to_plain_text(text) == "Скидки здесь (https://x.example/) <3"
    assert visible_length("<b>👍</b> &amp;") == 4  # the emoji is two UTF-16 units


def test_empty_and_too_long_texts_are_refused():
    with pytest.raises(TelegramHTMLError):
        validate_html("  \n")
    with pytest.raises(TelegramHTMLError):
        validate_html("<b>" + "я" * 4097 + "</b>")
    validate_html("<b>" + "я" * 4096 + "</b>")


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [p for p, _n in XSS_PAYLOADS[:12]])
def test_the_service_refuses_payloads_and_creates_nothing(payload):
    with pytest.raises(ValidationError) as info:
        mailing_create(
            name="x",
            text=payload,
            send_at=timezone.now() + timedelta(hours=1),
            audience="subscribers",
            channels=["telegram"],
        )

    assert info.value.code == "invalid_html"
    assert not Mailing.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [p for p, _n in XSS_PAYLOADS])
def test_the_admin_form_refuses_payloads_next_to_the_text(staff_client, payload):
    response = staff_client.post(
        reverse("admin:mailings_mailing_add"),
        {
            "name": "x",
            "text": payload,
            "send_at_0": "2030-03-01",
            "send_at_1": "10:00:00",
            "audience": "subscribers",
            "channels": ["telegram"],
            "buttons-TOTAL_FORMS": "0",
            "buttons-INITIAL_FORMS": "0",
            "buttons-MIN_NUM_FORMS": "0",
            "buttons-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["text"]
    assert not Mailing.objects.exists()


def _stored_mailing(text, **fields):
    """A mailing row holding ``text`` as it is, as one saved before the current rules."""
    return Mailing.objects.create(
        name="Старая рассылка",
        text=text,
        send_at=timezone.now() + timedelta(hours=1),
        audience="subscribers",
        channels=["telegram"],
        **fields,
    )


def _preview_fragment(body: str) -> str:
    start = body.index('<div class="mailing-text">') + len('<div class="mailing-text">')
    return body[start : body.index("</div>", start)]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [p for p, _n in XSS_PAYLOADS])
def test_admin_preview_of_a_stored_payload_shows_only_sanitised_markup(staff_client, payload):
    mailing = _stored_mailing(payload)

    response = staff_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    fragment = _preview_fragment(body)
    assert fragment == to_preview_html(payload)
    _preview_is_inert(fragment)
    assert 'class="errornote"' in body  # and the reason it would be refused today
    assert _script_carriers(body) == []


def _script_carriers(page: str) -> list:
    """Event-handler attributes, script URLs and elements from the text anywhere in the page.

    Everything on the page but the preview is Django-escaped, where any parser
    agrees; the preview itself is checked with the HTML5 parser above.
    """
    found = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith(("javascript:", "data:text")):
                    found.append((tag, name, value))
            if tag in {"math", "iframe", "object", "embed", "noscript", "style"} or (
                tag == "img" and not dict(attrs).get("src", "").startswith("/static/")
            ):
                found.append((tag, attrs))

    Scan().feed(page)
    return found


@pytest.mark.django_db
def test_admin_preview_renders_telegrams_markup(staff_client):
    mailing = _stored_mailing('<b>Жирный</b> <tg-spoiler>тайна</tg-spoiler> <a href="https://x.example/">ссылка</a>')

    body = staff_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).content.decode()

    assert _preview_fragment(body) == (
        '<b>Жирный</b> <span class="tg-spoiler">тайна</span> <a href="https://x.example/">ссылка</a>'
    )
    assert 'class="errornote"' not in body


@pytest.mark.django_db
def test_a_stored_javascript_button_is_not_a_link_in_the_preview(staff_client):
    mailing = _stored_mailing("<b>x</b>")
    mailing.buttons.create(text="Жми", url="javascript:alert(1)", position=0)

    body = staff_client.get(reverse("admin:mailings_mailing_change", args=[mailing.pk])).content.decode()

    assert 'href="javascript:' not in body
    assert '<a rel="noopener noreferrer">Жми</a>' in body


@pytest.mark.django_db
def test_a_stored_payload_goes_out_sanitised(fake_telegram, mailoutbox):
    from portal.tests.factories import UserFactory

    subscriber = BotSubscriberFactory()
    user = UserFactory()
    mailing = _stored_mailing(
        '<b onclick="x()">Скидки</b><!--><img src=x onerror=alert(1)>--> <a href="javascript:alert(1)">тут</a>',
        status=Mailing.Status.SCHEDULED,
    )
    Mailing.objects.filter(pk=mailing.pk).update(channels=["telegram", "email"], audience="users")
    subscriber.user = user
    subscriber.save()

    with time_machine.travel(mailing.send_at + timedelta(seconds=1), tick=True):
        mailings_dispatch_due()

    [(_m, params)] = fake_telegram.messages_to(subscriber.chat_id)
    assert params["text"] == "<b>Скидки</b>--&gt; тут"
    [email] = mailoutbox
    html = email.alternatives[0][0]
    assert "<img" not in html and "onclick" not in html and "javascript:" not in html
    assert "<b>Скидки</b>" in html
