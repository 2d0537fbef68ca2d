"""Back office for the catalog: moderation, inline services and photos, CSV import jobs."""

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog import services
from catalog.exports import OrganizationExport
from catalog.forms import ImportForm
from catalog.images import LOGO_MAX_SIDE, validate_and_reencode
from catalog.importing import import_job_create, import_job_progress
from catalog.models import Category, City, ImportJob, Organization, OrganizationPhoto, Service, missing_for_publishing
from portal.errors import DomainError
from portal.exports import ExportAdminMixin
from portal.formatting import DATE_FORMAT, datetime_format
from portal.phones import PhoneFormField
from portal.service_forms import ServiceSavingAdminMixin, form_errors_add, instance_refresh


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "position"]
    list_editable = ["position"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ListingStateFilter(admin.SimpleListFilter):
    title = _("listing")
    parameter_name = "listing"

    def lookups(self, request, model_admin):
        return [
            ("visible", _("visible in the catalog")),
            ("listed", _("paid listing active")),
            ("expired", _("listing expired")),
            ("never", _("never listed")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "visible":
            return queryset.filter(pk__in=Organization.objects.visible().values("pk"))
        if self.value() == "listed":
            return queryset.filter(listed_until__gt=now)
        if self.value() == "expired":
            return queryset.filter(listed_until__lte=now)
        if self.value() == "never":
            return queryset.filter(listed_until__isnull=True)
        return queryset


class ServiceAdminForm(forms.ModelForm):
    """Shows the refusals of ``services.service_fields_clean`` next to the fields; saving calls the services."""

    class Meta:
        model = Service
        fields = ["organization", "name", "description", "price", "duration_minutes", "is_active"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        values = {f: cleaned[f] for f in ("name", "price", "duration_minutes") if cleaned.get(f) is not None}
        try:
            cleaned.update(services.service_fields_clean(values))
        except DomainError as exc:
            form_errors_add(self, exc)
        return cleaned


class ServiceInline(admin.TabularInline):
    model = Service
    form = ServiceAdminForm
    extra = 0
    fields = ["name", "price", "duration_minutes", "is_active"]


def _service_data(form) -> dict:
    return {f: form.cleaned_data[f] for f in services.SERVICE_FIELDS if f in form.cleaned_data}


def services_formset_save(*, formset, organization, by) -> None:
    """Save an inline formset of services through catalog.services (create, update, delete)."""
    # What the admin's history message reads (formset.save() would have set them).
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.deleted_forms:
        if form.instance.pk:
            services.service_delete(service=form.instance.pk, by=by)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        if form.instance.pk:
            services.service_update(service=form.instance.pk, by=by, **_service_data(form))
        else:
            services.service_create(organization=organization, by=by, **_service_data(form))


def photos_formset_save(*, formset, organization, by) -> None:
    """Save an inline formset of photos through catalog.services (add, caption, move, delete)."""
    # What the admin's history message reads (formset.save() would have set them).
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.deleted_forms:
        if form.instance.pk:
            services.photo_delete(organization=organization, photo_id=form.instance.pk, by=by)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        data = form.cleaned_data
        if not form.instance.pk:
            photo = services.photo_add(
                organization=organization, by=by, image=data["image"], caption=data.get("caption", "")
            )
        else:
            photo = form.instance
            if "caption" in form.changed_data:
                services.photo_caption_set(
                    organization=organization, photo_id=photo.pk, by=by, caption=data.get("caption", "")
                )
        if "position" in form.changed_data:
            services.photo_move(organization=organization, photo_id=photo.pk, by=by, position=data["position"])


def _reencoded(upload, *, max_side: int | None = None):
    """A new upload through the catalog's image pipeline (as for owners); the stored file as is."""
    if not isinstance(upload, UploadedFile):
        return upload
    try:
        return validate_and_reencode(upload, **({"max_side": max_side} if max_side else {}))
    except DomainError as exc:
        raise forms.ValidationError(exc.message, code=exc.code)


class PhotoAdminForm(forms.ModelForm):
    class Meta:
        model = OrganizationPhoto
        fields = ["image", "caption", "position"]

    def clean_image(self):
        image = _reencoded(self.cleaned_data.get("image"))
        if hasattr(image, "image_size"):
            self.instance.width, self.instance.height = image.image_size
        return image


class OrganizationAdminForm(forms.ModelForm):
    """Checks what the catalog services will check, so a refusal shows next to its field.

    Saving goes through ``catalog.services`` (OrganizationAdmin.save_model): the
    phone and website are normalised, a new name or city gets a new slug, and a
    published organization must stay complete, as for owners.
    """

    phone = PhoneFormField(label=_("phone"), required=False)
    website = forms.CharField(label=_("website"), required=False, max_length=200)

    class Meta:
        model = Organization
        fields = ["logo"]  # OrganizationAdmin.fields decides which fields the page shows

    def clean_logo(self):
        return _reencoded(self.cleaned_data.get("logo"), max_side=LOGO_MAX_SIDE)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        values = {f: cleaned[f] for f in services.ORGANIZATION_FIELDS if f in cleaned}
        try:
            values = services.organization_fields_clean(values)
        except DomainError as exc:
            form_errors_add(self, exc)
            return cleaned
        cleaned.update(values)
        if self.instance.pk and self.instance.status == Organization.Status.PUBLISHED and "categories" in cleaned:
            values = {f: cleaned.get(f, getattr(self.instance, f)) for f in services.ORGANIZATION_FIELDS}
            if missing_for_publishing(values, has_categories=bool(cleaned["categories"])):
                self.add_error(
                    None,
                    _("A published organization needs a description, an address, a phone or website and a category."),
                )
        return cleaned


class PhotoInline(admin.TabularInline):
    model = OrganizationPhoto
    form = PhotoAdminForm
    extra = 0
    fields = ["preview", "image", "caption", "position"]
    readonly_fields = ["preview"]
    ordering = ["position", "pk"]

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.pk or not obj.image:
            return "—"
        return format_html('<img src="{}" alt="" height="60">', obj.image.url)


@admin.register(Organization)
class OrganizationAdmin(ExportAdminMixin, ServiceSavingAdminMixin, admin.ModelAdmin):
    form = OrganizationAdminForm
    resource_classes = [OrganizationExport]
    list_display = ["name", "city", "status", "listing_state", "owner", "owner_blocked", "updated_at"]
    list_filter = [
        "status",
        ListingStateFilter,
        "hidden_by_staff",
        ("city", admin.RelatedOnlyFieldListFilter),
        ("categories", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "external_id", "owner__email", "address", "phone", "description"]
    list_select_related = ["city", "owner"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["categories"]
    # Every change goes through catalog.services: the details through organization_create/
    # organization_update (save_model), the status through the publish/hide actions
    # (organization_publish checks completeness, organization_hide marks it hidden by staff),
    # the listing through billing (listing_extend). The slug follows the name and city.
    readonly_fields = ["slug", "status", "listed_until", "created_at", "updated_at", "hidden_by_staff"]
    fields = [
        "name",
        "slug",
        "owner",
        "city",
        "categories",
        "description",
        "address",
        "phone",
        "website",
        "logo",
        "status",
        "hidden_by_staff",
        "moderation_note",
        "listed_until",
        "external_id",
        "created_at",
        "updated_at",
    ]
    inlines = [ServiceInline, PhotoInline]
    actions = ["publish_selected", "hide_selected"]
    date_hierarchy = "created_at"
    change_list_template = "admin/catalog/organization/change_list.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen when the organization is created; no service hands it over.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.ORGANIZATION_FIELDS if f in form.cleaned_data}
        staff_data = {f: form.cleaned_data[f] for f in services.ORGANIZATION_STAFF_FIELDS if f in form.cleaned_data}
        logo = form.cleaned_data.get("logo") if "logo" in form.changed_data else None
        categories = form.cleaned_data.get("categories")
        if not change:
            created = services.organization_create(owner=form.cleaned_data["owner"], categories=categories, **data)
            saved = services.organization_update(organization=created, by=request.user, logo=logo, **staff_data)
        else:
            saved = services.organization_update(
                organization=obj.pk, by=request.user, categories=categories, logo=logo, **data, **staff_data
            )
        # The admin's responses and inlines work on ``obj``: give it what the services saved.
        instance_refresh(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Categories were set by the service (save_model); the inlines go through the services too.
        for formset in formsets:
            save = services_formset_save if formset.model is Service else photos_formset_save
            save(formset=formset, organization=form.instance.pk, by=request.user)

    @admin.display(description=_("listing"), boolean=False)
    def listing_state(self, obj):
        if obj.listed_until is None:
            return _("never listed")
        if obj.listed_until > timezone.now():
            return _("until %(date)s") % {
                "date": datetime_format(obj.listed_until, zone=obj.city.tzinfo, fmt=DATE_FORMAT)
            }
        return _("expired")

    @admin.display(description=_("owner blocked"), boolean=True)
    def owner_blocked(self, obj):
        return obj.owner.is_blocked

    def _moderate(self, request, queryset, action, done_message):
        done, failed = 0, []
        for organization in queryset.order_by("pk"):
            try:
                action(organization=organization, by=request.user)
                done += 1
            except DomainError as exc:
                failed.append(f"{organization.name}: {exc.message}")
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description=_("Publish selected organizations"))
    def publish_selected(self, request, queryset):
        self._moderate(
            request,
            queryset,
            services.organization_publish,
            lambda n: ngettext("%d organization published.", "%d organizations published.", n) % n,
        )

    @admin.action(description=_("Hide selected organizations (moderation)"))
    def hide_selected(self, request, queryset):
        self._moderate(
            request,
            queryset,
            services.organization_hide,
            lambda n: ngettext("%d organization hidden.", "%d organizations hidden.", n) % n,
        )


@admin.register(Service)
class ServiceAdmin(ServiceSavingAdminMixin, admin.ModelAdmin):
    """Services of any organization; saving goes through catalog.services (service_create/service_update)."""

    form = ServiceAdminForm
    list_display = ["name", "organization", "price", "duration_minutes", "is_active"]
    ordering = ["organization__name", "name"]  # by the organization's name (Meta.ordering sorts by its id)
    list_filter = ["is_active", ("organization__city", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.service_update(service=obj.pk, by=request.user, **_service_data(form))
        else:
            saved = services.service_create(
                organization=form.cleaned_data["organization"], by=request.user, **_service_data(form)
            )
        instance_refresh(obj, saved)

    def delete_model(self, request, obj):
        services.service_delete(service=obj.pk, by=request.user)

    def delete_queryset(self, request, queryset):
        for service in queryset.order_by("pk"):
            services.service_delete(service=service.pk, by=request.user)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """CSV imports: upload a file (add), then follow its progress and errors (change)."""

    list_display = ["filename", "status", "progress", "created_count", "updated_count", "skipped_count",
                    "error_count", "dry_run", "all_or_nothing", "created_by", "created_at"]  # fmt: skip
    list_filter = ["status", "dry_run"]
    list_select_related = ["created_by"]
    search_fields = ["filename"]
    readonly_fields = ["filename", "status", "progress", "dry_run", "all_or_nothing", "total_rows",
                       "created_count", "updated_count", "skipped_count", "error_count", "message",
                       "error_table", "created_by", "created_at", "started_at", "finished_at"]  # fmt: skip
    fields = list(readonly_fields)
    change_form_template = "admin/catalog/importjob/change_form.html"

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff

    @admin.display(description=_("progress"))
    def progress(self, obj):
        done = import_job_progress(obj)
        total = obj.total_rows or 0
        percent = 100 if obj.status == ImportJob.Status.DONE else (int(done * 100 / total) if total else 0)
        return format_html(
            '<progress value="{}" max="100" aria-label="{}"></progress> {}% ({}/{})',
            percent,
            _("progress"),
            percent,
            done,
            total,
        )

    @admin.display(description=_("errors"))
    def error_table(self, obj):
        if not obj.errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.get("line"), e.get("field") or "", e.get("message")) for e in obj.errors),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("line"),
            _("column"),
            _("reason"),
            rows,
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            return self.changeform_view(request, None, form_url, extra_context)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = import_job_create(
                    upload=form.cleaned_data["file"],
                    by=request.user,
                    dry_run=form.cleaned_data["dry_run"],
                    all_or_nothing=form.cleaned_data["all_or_nothing"],
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                return HttpResponseRedirect(reverse("admin:catalog_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import organizations from CSV"),
            "form": form,
            "has_view_permission": True,
        }
        return render(request, "admin/catalog/importjob/import_form.html", context)
