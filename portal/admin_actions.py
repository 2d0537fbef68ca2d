"""The page an admin action shows before it acts: what will happen, to which objects, and a confirm button.

An action that asks first (a reason, or just "are you sure") returns
``action_confirmation_response(...)`` on its first call; the page posts the same
action back with the selected ids and ``apply``, and the action acts when it
finds ``"apply"`` in ``request.POST`` (and its form, if any, is valid):

    if "apply" in request.POST and form.is_valid():
        ...  # act, message, return None
    return action_confirmation_response(request, self, objects=queryset, action_name="block_users", ...)

One template (``admin/action_confirmation.html``) serves every such page; what
differs from page to page comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse

if TYPE_CHECKING:
    from django import forms
    from django.contrib.admin import ModelAdmin
    from django.db.models import Model
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise

TEMPLATE = "admin/action_confirmation.html"


def action_confirmation_response(
    request: HttpRequest,
    model_admin: ModelAdmin[Any],
    *,
    objects: Iterable[Model],
    action_name: str,
    title: StrOrPromise,
    intro: StrOrPromise,
    submit_label: StrOrPromise,
    form: forms.Form | None = None,
    describe: Callable[[Any], str] = str,
    extra_context: dict[str, Any] | None = None,
) -> TemplateResponse:
    """The confirmation page of ``model_admin``'s action ``action_name`` for ``objects``.

    ``intro`` is the paragraph above the list (what the action will do),
    ``describe(obj)`` the text of each object's line (escaped on the page),
    ``form`` the fields asked for (none: a plain confirmation), ``submit_label``
    the confirm button's text. ``extra_context`` is added to (and may override)
    the page's context.
    """
    listed = list(objects)
    media = model_admin.media + form.media if form is not None else model_admin.media
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "items": [(obj.pk, describe(obj)) for obj in listed],
        "form": form,
        "submit_label": submit_label,
        "action_name": action_name,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": model_admin.model._meta,
        "media": media,
        **(extra_context or {}),
    }
    return TemplateResponse(request, TEMPLATE, context)
