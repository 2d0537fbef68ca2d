"""Forms and admin pages in front of services: a refusal is shown where the person typed.

Services raise ``portal.errors.DomainError``; a field map in ``extra["errors"]``
(``{"phone": ["…"]}``) names the fields. Pages and admin forms use these helpers
instead of each writing their own.
"""

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpResponseRedirect

from portal.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _AdminBase = ModelAdmin[Any]  # what ServiceSavingAdminMixin is mixed into
else:
    _AdminBase = object


def form_errors_add(form, exc: DomainError) -> None:
    """Put a service's refusal on ``form``: next to the fields it names, else above the form."""
    field_errors = exc.extra.get("errors") or {}
    for field, errors in field_errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not field_errors:
        form.add_error(None, exc.message)


def instance_refresh(obj, saved) -> None:
    """Give the admin's ``obj`` what a service saved (its pk, slug…): the admin answers and logs with ``obj``."""
    obj.__dict__.update({key: value for key, value in saved.__dict__.items() if key != "_state"})
    obj._state.adding = False


class ServiceSavingAdminMixin(_AdminBase):
    """For a ModelAdmin whose save_model/save_related call services.

    Its form shows the rules it can check beforehand; a refusal only the write
    can see (a concurrent change) rolls the page's transaction back and comes
    back as a message on the same page, never as a server error.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
