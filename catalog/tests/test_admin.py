from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Organization
from catalog.tests.factories import CategoryFactory, CityFactory, OrganizationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:catalog_organization_changelist"


def test_changelist_filters_and_search(staff_client):
    spb = CityFactory(slug="spb", name="Санкт-Петербург")
    cat = CategoryFactory()
    a = OrganizationFactory(name="Борода и Ко")
    a.categories.set([cat])
    OrganizationFactory(name="Питерская", city=spb, listed_until=timezone.now() - timedelta(days=1))
    OrganizationFactory(name="Новая", listed_until=None, status="draft")
    url = reverse(CHANGELIST)

    def names(params):
        response = staff_client.get(url, params)
        assert response.status_code == 200
        return sorted(o.name for o in response.context["cl"].result_list)

    assert names({"q": "Борода"}) == ["Борода и Ко"]
    assert names({"city__id__exact": spb.pk}) == ["Питерская"]
    assert names({"categories__id__exact": cat.pk}) == ["Борода и Ко"]
    assert names({"status__exact": "draft"}) == ["Новая"]
    assert names({"listing": "visible"}) == ["Борода и Ко"]
    assert names({"listing": "expired"}) == ["Питерская"]
    assert names({"listing": "never"}) == ["Новая"]


def test_change_page_has_inline_services_and_photos(staff_client):
    org = OrganizationFactory()
    ServiceFactory(organization=org, name="Стрижка")
    html = staff_client.get(reverse("admin:catalog_organization_change", args=[org.pk])).content.decode()
    assert "Стрижка" in html and "photos-TOTAL_FORMS" in html


def test_hide_and_publish_actions(staff_client, staff_user):
    complete = OrganizationFactory(phone="+74951234567")
    complete.categories.set([CategoryFactory()])
    incomplete = OrganizationFactory(status="draft", description="")
    url = reverse(CHANGELIST)
    staff_client.post(url, {"action": "hide_selected", "_selected_action": [complete.pk]})
    complete.refresh_from_db()
    assert complete.status == "hidden" and complete.hidden_by_staff
    assert not Organization.objects.visible().filter(pk=complete.pk).exists()

    response = staff_client.post(
        url, {"action": "publish_selected", "_selected_action": [complete.pk, incomplete.pk]}, follow=True
    )
    complete.refresh_from_db()
    incomplete.refresh_from_db()
    assert complete.status == "published" and not complete.hidden_by_staff
    assert incomplete.status == "draft"  # missing fields are reported, not published
    assert any("Fill in before publishing" in str(m) for m in response.context["messages"])


def test_owner_cannot_republish_what_moderators_hid(client, staff_user, user):
    from catalog.services import organization_hide, organization_publish
    from portal.errors import PermissionDenied

    org = OrganizationFactory(owner=user, phone="+74951234567")
    org.categories.set([CategoryFactory()])
    organization_hide(organization=org, by=staff_user, note="Жалобы клиентов")
    with pytest.raises(PermissionDenied):
        organization_publish(organization=org, by=user)
    org.refresh_from_db()
    assert org.status == "hidden" and org.moderation_note == "Жалобы клиентов"


@pytest.mark.parametrize("model", ["category", "importjob", "organization", "service"])
def test_changelists_cost_the_same_queries_for_one_row_or_many(staff_client, model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.models import ImportJob
    from portal.tests.factories import UserFactory

    def add_row():
        parent = CategoryFactory()
        CategoryFactory(parent=parent)
        ServiceFactory(organization=OrganizationFactory())
        ImportJob.objects.create(created_by=UserFactory(), filename="orgs.csv", file="catalog_imports/orgs.csv")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse(f"admin:catalog_{model}_changelist")).status_code == 200
        return len(captured)

    add_row()
    one = queries()
    for _ in range(4):
        add_row()
    assert queries() == one


def _change_form_data(org, **extra):
    """What the organization's admin page posts when nothing is changed (no services or photos yet)."""
    data = {
        "name": org.name, "slug": org.slug, "owner": org.owner_id, "city": org.city_id,
        "categories": [c.pk for c in org.categories.all()], "description": org.description,
        "address": org.address, "phone": org.phone, "website": org.website, "status": org.status,
        "moderation_note": org.moderation_note, "external_id": org.external_id or "",
    }  # fmt: skip
    for prefix in ("services", "photos"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0,
                 f"{prefix}-MAX_NUM_FORMS": 1000}  # fmt: skip
    return data | extra


def test_admin_photo_and_logo_uploads_go_through_the_image_pipeline(staff_client):
    from catalog.models import OrganizationPhoto
    from catalog.tests.images import image_upload

    org = OrganizationFactory(phone="+74951234567")
    org.categories.set([CategoryFactory()])
    url = reverse("admin:catalog_organization_change", args=[org.pk])
    photo = {"photos-TOTAL_FORMS": 1, "photos-0-caption": "Зал", "photos-0-position": 0}

    # given a GIF (not accepted from owners either)
    response = staff_client.post(
        url, _change_form_data(org, **photo, **{"photos-0-image": image_upload("a.gif", "GIF")})
    )
    # then the page answers with the error and saves nothing
    assert response.status_code == 200
    assert "JPEG, PNG" in response.content.decode()
    assert not OrganizationPhoto.objects.exists()

    # given a large PNG photo and a large logo
    response = staff_client.post(
        url,
        _change_form_data(
            org,
            **photo,
            **{"photos-0-image": image_upload("big.png", "PNG", size=(3000, 1000))},
            logo=image_upload("logo.png", "PNG", size=(1024, 1024)),
        ),
    )
    assert response.status_code == 302
    saved = OrganizationPhoto.objects.get()
    assert (saved.width, saved.height) == (2560, 853)  # scaled, dimensions stored as for owners
    assert saved.image.name.endswith(".jpg")
    org.refresh_from_db()
    assert org.logo.width == 512


def test_the_change_form_cannot_publish_around_the_moderation_rules(staff_client):
    # given an incomplete draft (no categories, no phone)
    org = OrganizationFactory(status="draft", phone="")
    url = reverse("admin:catalog_organization_change", args=[org.pk])

    # when staff post the change form with status "published"
    response = staff_client.post(url, _change_form_data(org, status="published", name="Новое имя"))

    # then the other fields are saved, the status is not: publishing is the action's job
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "Новое имя"
    assert org.status == "draft"


def test_the_change_form_saves_through_the_catalog_services(staff_client):
    # The admin used to save name, slug, city, phone and website as typed: no phone
    # normalisation, no new slug, and a published organization could lose its contacts.
    org = OrganizationFactory(name="Старое", phone="+74951234567")
    org.categories.set([CategoryFactory()])
    url = reverse("admin:catalog_organization_change", args=[org.pk])

    response = staff_client.post(url, _change_form_data(org, name="Новое имя", phone="8 (999) 123-45-67"))

    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.slug, org.phone) == ("Новое имя", "novoe-imya", "+79991234567")

    # a bad phone is shown next to its field, nothing is saved
    response = staff_client.post(url, _change_form_data(org, name="Другое", phone="12-34"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"]
    # a published organization must stay complete
    response = staff_client.post(url, _change_form_data(org, phone="", website="", categories=[]))
    assert response.status_code == 200
    assert "A published organization needs" in response.content.decode()
    org.refresh_from_db()
    assert (org.name, org.phone) == ("Новое имя", "+79991234567") and org.categories.exists()


def test_services_added_in_the_admin_follow_the_owners_rules(staff_client):
    org = OrganizationFactory(status="draft")
    url = reverse("admin:catalog_organization_change", args=[org.pk])
    service = {"services-TOTAL_FORMS": 1, "services-0-name": "Стрижка", "services-0-price": "990",
               "services-0-is_active": "on"}  # fmt: skip

    response = staff_client.post(url, _change_form_data(org, **service, **{"services-0-duration_minutes": 2000}))
    assert response.status_code == 200  # longer than a day: refused as for owners
    assert not org.services.exists()

    response = staff_client.post(url, _change_form_data(org, **service, **{"services-0-duration_minutes": 45}))
    assert response.status_code == 302
    assert list(org.services.values_list("name", "duration_minutes")) == [("Стрижка", 45)]
