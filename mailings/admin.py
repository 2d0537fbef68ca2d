"""Back office for bot subscribers, notifications and mailings.

A mailing is built as a draft (text, media, ordered buttons, audience,
channels, ``send_at`` in Moscow time), previewed as Telegram renders it, sent
to oneself as a test, scheduled, watched while sending and cancelled if need
be. Every action calls a service in mailings.services.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from mailings import drafts, services
from mailings.channels import vk
from mailings.channels.email import EMAIL_ATTACHMENT_MAX_BYTES
from mailings.models import BotSubscriber, Delivery, Mailing, MailingButton, Notification
from mailings.selectors import mailing_failures, mailing_progress
from mailings.telegram_html import (
    TelegramHTMLError,
    to_preview_html,
    validate_button_url,
    validate_html,
)
from portal.admin_dashboard import Figure, dashboard_register
from portal.errors import DomainError
from portal.service_forms import ServiceSavingAdminMixin, instance_refresh

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@admin.register(BotSubscriber)
class BotSubscriberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "first_name", "username", "user", "is_active", "subscribed_at")
    list_filter = ("channel", "is_active")
    search_fields = ("chat_id", "username", "first_name", "user__email")
    raw_id_fields = ("user",)
    readonly_fields = ("subscribed_at", "unsubscribed_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "user", "channel", "status", "created_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("dedupe_key", "user__email", "subject")
    raw_id_fields = ("user",)
    readonly_fields = [f.name for f in Notification._meta.fields]


class MailingButtonForm(forms.ModelForm):
    class Meta:
        model = MailingButton
        fields = ("text", "url", "position")

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        try:
            validate_button_url(url)
        except TelegramHTMLError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


class MailingButtonInline(admin.TabularInline):
    model = MailingButton
    form = MailingButtonForm
    extra = 1
    ordering = ("position", "pk")


class MailingForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("channels"), choices=Mailing.CHANNEL_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Mailing
        fields = ("name", "text", "media", "send_at", "audience", "city", "channels")
        help_texts = {
            # The admin renders help texts as HTML: the tag is written with entities.
            "text": _(
                "Telegram HTML: b, i, u, s, a href (http, https, tg), code, pre, blockquote (expandable), "
                '&lt;span class="tg-spoiler"&gt;, tg-emoji. Anything else is refused. '
                "VK and email get the plain text."
            ),
            "send_at": _("Moscow time."),
            "media": _(
                "Optional: one photo (JPEG, PNG, WebP), animation (GIF) or video (MP4, MOV, WebM), up to 50 MB. "
                "Telegram shows it above the text; VK takes a photo, and a GIF as a document, but no video; "
                "email gets it as an attachment up to 10 MB."
            ),
            "channels": _("What each channel cannot carry is listed in the preview before you schedule."),
        }

    # The service's error codes, and the field each belongs to.
    FIELD_BY_ERROR_CODE = {
        "name_required": "name",
        "invalid_html": "text",
        "invalid_audience": "audience",
        "city_required": "city",
        "invalid_channels": "channels",
        "invalid_media": "media",
        "invalid_send_at": "send_at",
        "send_at_past": "send_at",
    }

    def clean(self):
        """The mailing's rules live in ``services.mailing_validate``; show its answer next to the field."""
        super().clean()
        cleaned = self.cleaned_data
        if any(name in self.errors for name in ("name", "text", "audience", "channels")):
            return cleaned
        try:
            self.instance.media_type = services.mailing_validate(
                name=cleaned.get("name", ""),
                text=cleaned.get("text", ""),
                audience=cleaned.get("audience", ""),
                channels=cleaned.get("channels", []),
                buttons=[],  # the button inline validates its own rows
                city=cleaned.get("city"),
                media=cleaned.get("media") or None,
            )
        except DomainError as exc:
            self.add_error(self.FIELD_BY_ERROR_CODE.get(exc.code), exc.message)
        if "send_at" not in self.errors:
            try:
                drafts.mailing_send_at_validate(cleaned.get("send_at"))
            except DomainError as exc:
                self.add_error("send_at", exc.message)
        return cleaned


@admin.register(Mailing)
class MailingAdmin(ServiceSavingAdminMixin, admin.ModelAdmin):
    form = MailingForm
    inlines = [MailingButtonInline]
    list_display = ("name", "send_at", "status", "audience", "channels_display", "sent_count", "failed_count")
    list_filter = ("status", "audience")
    search_fields = ("name",)
    date_hierarchy = "send_at"
    actions = ["action_schedule", "action_cancel"]
    change_form_template = "admin/mailings/mailing/change_form.html"

    @admin.display(description=_("channels"))
    def channels_display(self, obj):
        return ", ".join(obj.channels or [])

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.status not in Mailing.EDITABLE_STATUSES:
            # sending/sent/cancelled mailings are read-only: view permission still shows them
            return False
        return allowed

    def save_model(self, request, obj, form, change):
        # Saved with its buttons in save_related, through mailings.drafts.mailing_draft_save.
        pass

    def save_related(self, request, form, formsets, change):
        """Save the mailing and its ordered buttons through the service (the rules of mailing_create)."""
        buttons = []
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            rows = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            rows.sort(key=lambda f: (f.cleaned_data.get("position") or 0, f.instance.pk or 0))
            buttons += [(f.cleaned_data["text"], f.cleaned_data["url"]) for f in rows]
        data = form.cleaned_data
        media = data.get("media") if "media" in form.changed_data else None
        saved = drafts.mailing_draft_save(
            mailing=form.instance if change else None,
            name=data["name"],
            text=data["text"],
            send_at=data["send_at"],
            audience=data["audience"],
            channels=data["channels"],
            buttons=buttons,
            media=media,
            city=data.get("city"),
            by=request.user,
        )
        instance_refresh(form.instance, saved)
        for warning in delivery_warnings(form.instance):
            self.message_user(request, warning, messages.WARNING)

    # --- actions -------------------------------------------------------------
    @admin.action(description=_("Schedule the selected drafts"))
    def action_schedule(self, request, queryset):
        for mailing in queryset:
            if self._run(request, lambda m=mailing: services.mailing_schedule(mailing=m), _("Scheduled: %s") % mailing):
                for warning in delivery_warnings(mailing):
                    self.message_user(request, f"{mailing}: {warning}", messages.WARNING)

    @admin.action(description=_("Cancel the selected mailings"))
    def action_cancel(self, request, queryset):
        for mailing in queryset:
            self._run(request, lambda m=mailing: services.mailing_cancel(mailing=m), _("Cancelled: %s") % mailing)

    def _run(self, request, call, success: StrOrPromise) -> bool:
        try:
            call()
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        self.message_user(request, success, messages.SUCCESS)
        return True

    # --- extra pages -----------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<id:pk>/progress/", wrap(self.progress_view), name="mailings_mailing_progress"),
            path("<id:pk>/schedule/", wrap(require_POST(self.schedule_view)), name="mailings_mailing_schedule"),
            path(
                "<id:pk>/cancel/",
                wrap(require_http_methods(["GET", "POST"])(self.cancel_view)),
                name="mailings_mailing_cancel",
            ),
            path("<id:pk>/send-test/", wrap(require_POST(self.send_test_view)), name="mailings_mailing_send_test"),
            *super().get_urls(),
        ]

    def _get(self, request, pk, *, change=False):
        from django.core.exceptions import PermissionDenied

        mailing = get_object_or_404(Mailing, pk=pk)
        allowed = super().has_change_permission(request) if change else self.has_view_permission(request, mailing)
        if not allowed:
            raise PermissionDenied
        return mailing

    def _back(self, mailing):
        return HttpResponseRedirect(reverse("admin:mailings_mailing_change", args=[mailing.pk]))

    def schedule_view(self, request, pk):
        mailing = self._get(request, pk, change=True)
        if self._run(request, lambda: services.mailing_schedule(mailing=mailing), _("The mailing is scheduled.")):
            for warning in delivery_warnings(mailing):
                self.message_user(request, warning, messages.WARNING)
        return self._back(mailing)

    def cancel_view(self, request, pk):
        """GET: a page that says what cancelling does and asks to confirm; POST: cancel."""
        mailing = self._get(request, pk, change=True)
        if request.method == "POST":
            self._run(request, lambda: services.mailing_cancel(mailing=mailing), _("The mailing is cancelled."))
            return self._back(mailing)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel the mailing “%(name)s”?") % {"name": mailing.name},
            "mailing": mailing,
            "progress": mailing_progress(mailing=mailing),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mailings/mailing/cancel_confirmation.html", context)

    def send_test_view(self, request, pk):
        mailing = self._get(request, pk)
        try:
            channels = services.mailing_send_test(mailing=mailing, user=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, _("Test sent to you via: %s") % ", ".join(channels), messages.SUCCESS)
        return self._back(mailing)

    def progress_view(self, request, pk):
        mailing = self._get(request, pk)
        return TemplateResponse(request, "admin/mailings/mailing/progress.html", self._progress_context(mailing))

    def _progress_context(self, mailing):
        return {
            "mailing": mailing,
            "progress": mailing_progress(mailing=mailing),
            "failures": mailing_failures(mailing=mailing)[:50],
            "is_sending": mailing.status == Mailing.Status.SENDING,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        mailing = Mailing.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if mailing is not None:
            extra_context.update(self._progress_context(mailing))
            extra_context["preview"], extra_context["preview_error"] = mailing_preview(mailing)
            extra_context["delivery_warnings"] = delivery_warnings(mailing)
            extra_context["preview_buttons"] = [
                (button.text, _button_href(button.url)) for button in mailing.buttons.order_by("position", "pk")
            ]
            extra_context["can_schedule"] = mailing.status == Mailing.Status.DRAFT
            extra_context["can_cancel"] = mailing.status in Mailing.CANCELLABLE_STATUSES
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


TAG = re.compile(r"<[a-zA-Z]")


def delivery_warnings(mailing) -> list[StrOrPromise]:
    """What the mailing's channels cannot carry, said before sending (the preview, saving, scheduling)."""
    channels = set(mailing.channels or [])
    warnings: list[StrOrPromise] = []
    if "vk" in channels and mailing.media and vk.media_unsupported(mailing.media_type):
        warnings.append(
            _(
                "VK: the video will not be sent. A community bot cannot upload videos to messages (VK's video.save "
                "needs a person's token), so VK subscribers get the text and the buttons only. Use a photo or a GIF "
                "for VK, or put a link to the video into a button."
            )
        )
    if "vk" in channels and mailing.media and mailing.media_type == Mailing.MediaType.ANIMATION:
        warnings.append(_("VK: the GIF is sent as a document (VK plays it in the chat)."))
    if "email" in channels and mailing.media:
        try:
            too_large = mailing.media.size > EMAIL_ATTACHMENT_MAX_BYTES
        except OSError:
            too_large = False
        if too_large:
            warnings.append(
                _("Email: the media is larger than 10 MB and will not be attached; emails get the text and the links.")
            )
    if channels & {"vk", "email"} and TAG.search(mailing.text or ""):
        warnings.append(_("VK and email: the formatting (bold, links, spoilers…) is dropped; they get plain text."))
    return warnings


def _button_href(url: str) -> str:
    """The button's link for the preview, or "" when it is not an http(s)/tg URL."""
    try:
        validate_button_url(url)
    except TelegramHTMLError:
        return ""
    return url


def mailing_preview(mailing) -> tuple[str, str]:
    """The text as Telegram shows it, and why the current rules refuse it ("" if they don't).

    Only the sanitised HTML reaches the page. A text the rules refuse (saved
    before they changed) shows the reason above the sanitised version, which
    is what would be sent.
    """
    preview = mark_safe(to_preview_html(mailing.text))  # noqa: S308 — nh3 output, Telegram's tags only
    try:
        validate_html(mailing.text)
    except TelegramHTMLError as exc:
        return preview, str(exc)
    return preview, ""


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("mailing", "channel", "recipient_key", "status", "sent_at", "error")
    list_filter = ("status", "channel")
    search_fields = ("recipient_key", "mailing__name")
    raw_id_fields = ("mailing", "subscriber", "user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _sending_figures(request) -> list[Figure]:
    """The admin's start page: mailings sending now (and scheduled for later today)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = Mailing.objects.aggregate(
        sending=Count("pk", filter=Q(status=Mailing.Status.SENDING)),
        scheduled_today=Count(
            "pk",
            filter=Q(status=Mailing.Status.SCHEDULED, send_at__gte=start, send_at__lt=start + timedelta(days=1)),
        ),
    )
    changelist = reverse("admin:mailings_mailing_changelist")
    return [
        Figure(
            key="mailings_sending",
            label=_("Mailings sending"),
            value=counts["sending"],
            url=f"{changelist}?status__exact=sending",
            hint=_("%(count)s scheduled for today") % {"count": counts["scheduled_today"]},
        )
    ]


dashboard_register(key="mailings", provider=_sending_figures, order=30)
