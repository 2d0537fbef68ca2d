"""Mailings being written: the back office's create and edit, through the same rules as ``mailing_create``.

The admin builds a mailing as a draft (text, media, ordered buttons, audience,
channels, ``send_at``), previews it, sends it to itself and then schedules it
(``services.mailing_schedule``). ``mailing_draft_save`` is the one write path
for those edits: the fields are checked by ``services.mailing_validate``, the
sending time by ``mailing_send_at_validate``, and a mailing that has started
sending can no longer change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailings import services
from mailings.models import Mailing, MailingButton
from portal.errors import Conflict, ValidationError
from portal.models import City, User

# A form filled in a minute ago is not "in the past" yet.
SEND_AT_GRACE = timedelta(minutes=5)


def mailing_send_at_validate(send_at: datetime | None, *, now: datetime | None = None) -> None:
    """The sending time is an aware datetime, not in the past. Raises ValidationError."""
    if send_at is None or timezone.is_naive(send_at):
        raise ValidationError(_("Give the sending time."), code="invalid_send_at")
    if send_at < (now or timezone.now()) - SEND_AT_GRACE:
        raise ValidationError(_("The sending time is in the past."), code="send_at_past")


@transaction.atomic
def mailing_draft_save(
    *,
    mailing: Mailing | None = None,
    name: str,
    text: str,
    send_at: datetime,
    audience: str,
    channels: list[str],
    buttons: list[tuple[str, str]] | None = None,
    media: File[Any] | Literal[False] | None = None,
    city: City | None = None,
    by: User | None = None,
) -> Mailing:
    """Create a draft (``mailing`` None) or change a draft or scheduled mailing, buttons included.

    ``media``: a new file, ``False`` to remove it, None to keep the current one.
    ``buttons`` replace the mailing's buttons in the order given. Raises
    ValidationError (the fields, ``send_at_past``) or Conflict
    ``mailing_not_editable`` once sending has started; its status is kept.
    """
    buttons = list(buttons or [])
    if mailing is not None:
        mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if mailing.status not in Mailing.EDITABLE_STATUSES:
            raise Conflict(
                _("This mailing is being sent or is over; it can no longer change."), code="mailing_not_editable"
            )
    else:
        mailing = Mailing(status=Mailing.Status.DRAFT, created_by=by)
    kept_media = mailing.media if media is None and mailing.media else None
    media_type = services.mailing_validate(
        name=name, text=text, audience=audience, channels=channels, buttons=buttons, city=city,
        media=media or kept_media,
    )  # fmt: skip
    mailing_send_at_validate(send_at)
    mailing.name = name.strip()
    mailing.text = text
    mailing.send_at = send_at
    mailing.audience = audience
    mailing.channels = list(channels)
    mailing.city = city if audience == Mailing.Audience.CITY else None
    mailing.media_type = media_type
    if media:
        mailing.media.save(getattr(media, "name", "media").rsplit("/", 1)[-1], media, save=False)
        mailing.telegram_file_id = mailing.vk_attachment = ""
    elif media is False:
        mailing.media = ""
        mailing.telegram_file_id = mailing.vk_attachment = ""
    mailing.save()
    mailing.buttons.all().delete()
    MailingButton.objects.bulk_create(
        MailingButton(mailing=mailing, text=button_text.strip(), url=url.strip(), position=index)
        for index, (button_text, url) in enumerate(buttons)
    )
    return mailing
