"""The Telegram bot's staff menu: ``/mailings`` and ``/stats``. Read-only.

A staff member whose Telegram is linked to their account (the chat's
subscriber, or their ``telegram`` SocialAccount) sees the scheduled and
sending mailings, page by page, each with its preview and progress, and
today's figures. Changing anything stays in the admin, behind two-factor
authentication. Anybody else gets the ordinary help.

The pages are inline keyboards: the callback data ``staff:list:<page>`` shows
a page of the list and ``staff:mailing:<id>:<page>`` one mailing (the page to
go back to). The message is edited in place.

The ``/stats`` figures of the apps above mailings come from the providers they
register (``mailings.bot_registry.stats_register``): billing adds top-ups
and revenue, bookings adds bookings; mailings imports neither.
"""

import logging
from datetime import datetime, time, timedelta

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode

from mailings.bot_registry import stats_providers
from mailings.channels import telegram as tg
from mailings.channels.base import SendFailed
from mailings.models import BotSubscriber, Mailing
from mailings.selectors import mailing_progress
from mailings.telegram_html import TEXT_LIMIT, escape, sanitize, visible_length

logger = logging.getLogger(__name__)

PAGE_SIZE = 5
CALLBACK_PREFIX = "staff:"
LISTED_STATUSES = (Mailing.Status.SENDING, Mailing.Status.SCHEDULED)


def staff_for_chat(*, chat_id, telegram_id):
    """The active, unblocked staff user this private chat belongs to, or None."""
    subscriber = BotSubscriber.objects.filter(channel="telegram", chat_id=str(chat_id)).select_related("user").first()
    user = subscriber.user if subscriber is not None else None
    if user is None:
        account = SocialAccount.objects.filter(provider="telegram", uid=str(telegram_id)).select_related("user").first()
        user = account.user if account is not None else None
    if user is None or not user.is_active or not user.is_staff or user.is_blocked:
        return None
    return user


def _local(value: datetime, fmt: str = "j E Y, H:i") -> str:
    """A moment in the site's time zone (Moscow), written the Russian way."""
    with translation.override(settings.LANGUAGE_CODE):
        return dateformat.format(timezone.localtime(value, timezone.get_default_timezone()), fmt)


def _listed_mailings():
    # Sending first, then the next to go out.
    order = Case(When(status=Mailing.Status.SENDING, then=Value(0)), default=Value(1), output_field=IntegerField())
    return Mailing.objects.filter(status__in=LISTED_STATUSES).order_by(order, "send_at", "pk")


def _progress_line(mailing: Mailing) -> str:
    if mailing.status == Mailing.Status.SCHEDULED:
        return _("scheduled for %(when)s (Moscow time)") % {"when": _local(mailing.send_at)}
    progress = mailing_progress(mailing=mailing)
    return _("sending: %(percent)s%%, sent %(sent)s of %(total)s, failed %(failed)s") % progress


def mailings_page(*, page: int = 1) -> tuple[str, InlineKeyboardMarkup | None]:
    """The ``/mailings`` list: one page of scheduled and sending mailings, as HTML and a keyboard."""
    paginator = Paginator(_listed_mailings(), PAGE_SIZE)
    if paginator.count == 0:
        return escape(_("No mailings are scheduled or sending.")), None
    current = paginator.get_page(page)
    lines = [
        "<b>"
        + escape(
            _("Scheduled and sending mailings (page %(page)s of %(pages)s)")
            % {"page": current.number, "pages": paginator.num_pages}
        )
        + "</b>",
        "",
    ]
    rows = []
    for index, mailing in enumerate(current.object_list, start=current.start_index()):
        lines.append(f"{index}. <b>{escape(mailing.name)}</b>: {escape(_progress_line(mailing))}")
        label = f"{index}. {mailing.name}"
        rows.append(
            [InlineKeyboardButton(label[:60], callback_data=f"{CALLBACK_PREFIX}mailing:{mailing.pk}:{current.number}")]
        )
    navigation = []
    if current.has_previous():
        navigation.append(
            InlineKeyboardButton(_("« Back"), callback_data=f"{CALLBACK_PREFIX}list:{current.previous_page_number()}")
        )
    if current.has_next():
        navigation.append(
            InlineKeyboardButton(_("Next »"), callback_data=f"{CALLBACK_PREFIX}list:{current.next_page_number()}")
        )
    if navigation:
        rows.append(navigation)
    lines += ["", escape(_("Tap a mailing to see its preview. Changes are made in the admin."))]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def mailing_card(*, mailing_id: int, page: int = 1) -> tuple[str, InlineKeyboardMarkup]:
    """One mailing: its progress, audience and channels, then its text as subscribers will see it."""
    back = InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("« To the list"), callback_data=f"{CALLBACK_PREFIX}list:{page}")]]
    )
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None:
        return escape(_("This mailing no longer exists.")), back
    header = [
        f"<b>{escape(mailing.name)}</b>",
        escape(_progress_line(mailing) if mailing.status in LISTED_STATUSES else mailing.get_status_display()),
        escape(
            _("Audience: %(audience)s; channels: %(channels)s")
            % {
                "audience": mailing.get_audience_display(),
                "channels": ", ".join(str(dict(Mailing.CHANNEL_CHOICES).get(c, c)) for c in mailing.channels or []),
            }
        ),
    ]
    if mailing.media:
        header.append(escape(_("With a %(media)s attached.") % {"media": mailing.get_media_type_display()}))
    header += ["", "<b>" + escape(_("Preview:")) + "</b>"]
    text = "\n".join(header) + "\n" + sanitize(mailing.text)
    if visible_length(text) > TEXT_LIMIT:
        too_long = _("(The text is too long to show here: open the mailing in the admin.)")
        text = "\n".join(header) + "\n" + escape(too_long)
    rows = [[InlineKeyboardButton(button.text, url=button.url)] for button in mailing.buttons.all()]
    return text, InlineKeyboardMarkup(rows + list(back.inline_keyboard))


def today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start and end of today in the site's time zone (Moscow)."""
    zone = timezone.get_default_timezone()
    day = timezone.localtime(now or timezone.now(), zone).date()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def stats_text(*, now: datetime | None = None) -> str:
    """``/stats``: today's figures from every registered provider (bookings, top-ups, revenue)."""
    start, end = today_bounds(now)
    lines = ["<b>" + escape(_("Today, %(day)s") % {"day": _local(start, "j E Y")}) + "</b>"]
    for name, provider in stats_providers():
        try:
            lines += [escape(line) for line in provider(start=start, end=end)]
        except Exception:  # one broken figure must not hide the others
            logger.exception("the %s /stats provider failed", name)
            lines.append(escape(_("%(name)s: not available") % {"name": name}))
    sent = Mailing.objects.filter(status=Mailing.Status.SENT, finished_at__gte=start, finished_at__lt=end).count()
    lines.append(escape(_("Mailings sent: %(count)s") % {"count": sent}))
    return "\n".join(lines)


def answer_callback(callback_query_id: str) -> None:
    """Stop the button's spinner in the staff member's app."""
    try:
        tg.run(tg.get_bot().answer_callback_query(callback_query_id=callback_query_id))
    except Exception as exc:  # the answer is cosmetic
        logger.info("answerCallbackQuery failed: %s", exc)


def edit_or_send(chat_id, message_id, text: str, markup) -> None:
    """Show a page in place of the previous one (a new message when it cannot be edited)."""
    try:
        tg._call(
            chat_id,
            "edit_message_text",
            message_id=message_id,
            text=text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    except SendFailed as exc:
        if "message is not modified" in str(exc.result.error):
            return
        tg._call(chat_id, "send_message", text=text, parse_mode=ParseMode.HTML, reply_markup=markup)
