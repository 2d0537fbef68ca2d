"""Catalog pages: the home page, the public list and organization page, and the owner's pages."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from catalog import extensions, selectors, services
from catalog.forms import CatalogFilterForm, OrganizationForm, PhotoForm, ServiceForm
from catalog.miniapp import ORGANIZATION_START_PREFIX
from catalog.models import Organization, Service
from portal.errors import DomainError
from portal.miniapp_start import miniapp_share_links
from portal.service_forms import form_errors_add
from portal.throttling import throttle, throttle_upload

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 12
OG_DEFAULT_IMAGE = "img/og-default.jpg"


def _absolute(url: str) -> str:
    """``url`` as an absolute address (storage and static URLs may be relative to the site)."""
    return url if url.startswith(("http://", "https://")) else f"{settings.SITE_URL}{url}"


def _open_graph(*, title: str, description: str, path: str, image_url: str | None = None) -> dict:
    """What link previews (Telegram, VK, messengers) show for a page."""
    return {
        "title": title,
        "description": description,
        "url": _absolute(path),
        "image": _absolute(image_url or static(OG_DEFAULT_IMAGE)),
    }


def home(request):
    """The site's home page (``/``): the city and category pickers and a few featured organizations."""
    return render(request, "home.html", selectors.home_context())


def catalog_list(request):
    pickers = selectors.pickers()
    form = CatalogFilterForm(request.GET or None, cities=pickers["cities"], categories=pickers["categories"])
    filters = form.filters()
    qs = selectors.organization_list(**filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    suggestion = None
    if filters.get("q") and not page.paginator.count:
        suggestion = selectors.search_suggestion(**filters)
        if suggestion:
            suggestion_query = request.GET.copy()
            suggestion_query.pop("page", None)
            suggestion_query["q"] = suggestion
    for organization in page.object_list:
        organization.min_price = selectors.card_min_price(organization)
        organization.cover = selectors.card_cover(organization)
    query = request.GET.copy()
    query.pop("page", None)
    city = next((c for c in pickers["cities"] if c.slug == filters.get("city")), None)
    category = next((c for c in pickers["categories"] if c.slug == filters.get("category")), None)
    return render(
        request,
        "catalog/list.html",
        {
            "form": form,
            "page_obj": page,
            "organizations": page.object_list,
            "query_string": query.urlencode(),
            "current_city": city,
            "current_category": category,
            "q": filters.get("q") or "",
            "suggestion": suggestion,
            "suggestion_query": suggestion_query.urlencode() if suggestion else "",
            "og": _open_graph(
                title=" — ".join(
                    str(part) for part in (category.name if category else _("Catalog"), city and city.name) if part
                ),
                description=_("Local organizations and masters: prices, opening hours, reviews and online booking."),
                path=request.get_full_path(),
            ),
        },
    )


def organization_detail(request, pk: int):
    organization: WithAnnotations[Organization, selectors.OrganizationPage] = get_object_or_404(
        selectors.organization_detail_queryset(user=request.user), pk=pk
    )
    is_owner = selectors.organization_can_manage(user=request.user, organization=organization)
    is_visible = Organization.objects.visible().filter(pk=organization.pk).exists() if is_owner else True
    return render(
        request,
        "catalog/detail.html",
        {
            "org": organization,
            "photos": organization.gallery,
            "services": organization.active_services,
            "is_owner": is_owner,
            "is_visible": is_visible,
            "sections": extensions.organization_sections(request=request, organization=organization),
            "links": selectors.organization_links(organization=organization),
            "og": _open_graph(
                title=f"{organization.name} — {organization.city.name}",
                description=organization.description or organization.address,
                path=organization.get_absolute_url(),
                image_url=organization.gallery[0].image.url if organization.gallery else None,
            ),
            # The Telegram and VK Mini App links that open this page (start parameter org_<id>).
            "share": miniapp_share_links(start_param=f"{ORGANIZATION_START_PREFIX}{organization.pk}")
            if is_visible
            else {},
        },
    )


# --- owner pages -----------------------------------------------------------------------------


def _own_or_404(request, pk: int) -> Organization:
    """An organization the user may manage (``organization_can_manage``); any other is a 404."""
    return get_object_or_404(selectors.organizations_managed_by(user=request.user).select_related("city"), pk=pk)


@login_required
def my_organizations(request):
    organizations = selectors.organizations_of_owner(user=request.user)
    page = Paginator(organizations, 20).get_page(request.GET.get("page"))
    return render(request, "catalog/my_organizations.html", {"page_obj": page, "organizations": page.object_list})


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request):
    form = OrganizationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and throttle_upload(request, form, "logo"):
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(owner=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, _("The organization is saved as a draft. Add photos and services, then publish it.")
            )
            return redirect("catalog:photos", pk=organization.pk)
    return render(request, "catalog/organization_form.html", {"form": form, "org": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request, pk: int):
    organization = _own_or_404(request, pk)
    initial = {
        "name": organization.name,
        "city": organization.city,
        "categories": list(organization.categories.all()),
        "description": organization.description,
        "address": organization.address,
        "phone": organization.phone,
        "website": organization.website,
    }
    form = OrganizationForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST" and throttle_upload(request, form, "logo"):
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        logo = data.pop("logo", None)
        try:
            services.organization_update(organization=organization, by=request.user, logo=logo, **data)
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("catalog:my_organizations")
    return render(request, "catalog/organization_form.html", {"form": form, "org": organization}, status=status)


@login_required
@require_POST
def organization_publish(request, pk: int):
    organization = _own_or_404(request, pk)
    try:
        services.organization_publish(organization=organization, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The organization is published."))
    return redirect("catalog:my_organizations")


@login_required
@require_POST
def organization_hide(request, pk: int):
    organization = _own_or_404(request, pk)
    try:
        services.organization_hide(organization=organization, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The organization is hidden from the catalog."))
    return redirect("catalog:my_organizations")


@login_required
@require_http_methods(["GET", "POST"])
def organization_delete(request, pk: int):
    organization = _own_or_404(request, pk)
    if request.method == "POST":
        try:
            services.organization_delete(organization=organization, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The organization is deleted."))
        return redirect("catalog:my_organizations")
    return render(request, "catalog/organization_delete.html", {"org": organization})


@login_required
@require_http_methods(["GET", "POST"])
@throttle("upload")
def organization_photos(request, pk: int):
    organization = _own_or_404(request, pk)
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.photo_add(
                organization=organization,
                by=request.user,
                image=form.cleaned_data["image"],
                caption=form.cleaned_data["caption"],
            )
        except DomainError as exc:
            form.add_error("image" if exc.code == "bad_image" else None, exc.message)
        else:
            messages.success(request, _("The photo is added."))
            return redirect("catalog:photos", pk=organization.pk)
    photos = organization.photos.order_by("position", "pk")
    return render(request, "catalog/photos.html", {"org": organization, "form": form, "photos": photos})


@login_required
@require_POST
def photo_delete(request, pk: int, photo_id: int):
    organization = _own_or_404(request, pk)
    try:
        services.photo_delete(organization=organization, photo_id=photo_id, by=request.user)
    except DomainError as exc:
        raise Http404(exc.message)
    messages.success(request, _("The photo is deleted."))
    return redirect("catalog:photos", pk=organization.pk)


@login_required
@require_POST
def photo_move(request, pk: int, photo_id: int):
    organization = _own_or_404(request, pk)
    try:
        position = max(0, int(request.POST.get("position", "0")))
        services.photo_move(organization=organization, photo_id=photo_id, by=request.user, position=position)
    except ValueError:
        messages.error(request, _("Unknown position."))
    except DomainError as exc:
        raise Http404(exc.message)
    return redirect("catalog:photos", pk=organization.pk)


@login_required
@require_http_methods(["GET", "POST"])
def organization_services(request, pk: int):
    organization = _own_or_404(request, pk)
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_create(organization=organization, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The service is added."))
            return redirect("catalog:services", pk=organization.pk)
    items = organization.services.order_by("-is_active", "price", "name")
    return render(request, "catalog/services.html", {"org": organization, "form": form, "services": items})


def _own_service_or_404(request, pk: int, service_id: int) -> Service:
    services_qs = Service.objects.select_related("organization").filter(
        organization__in=selectors.organizations_managed_by(user=request.user)
    )
    return get_object_or_404(services_qs, pk=service_id, organization_id=pk)


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request, pk: int, service_id: int):
    service = _own_service_or_404(request, pk, service_id)
    initial = {f: getattr(service, f) for f in ("name", "description", "price", "duration_minutes", "is_active")}
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(service=service, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("catalog:services", pk=pk)
    return render(request, "catalog/service_form.html", {"org": service.organization, "service": service, "form": form})


@login_required
@require_POST
def service_delete(request, pk: int, service_id: int):
    service = _own_service_or_404(request, pk, service_id)
    deleted = services.service_delete(service=service, by=request.user)
    if deleted:
        messages.success(request, _("The service is deleted."))
    else:
        messages.info(request, _("The service has bookings, so it was deactivated instead of deleted."))
    return redirect("catalog:services", pk=pk)
