import pytest
from django.core.files.storage import default_storage

from portal.models import City, User
from portal.tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db):
    return City.objects.create(name="Казань", slug="kazan", timezone="Europe/Moscow")


def test_me_patch_changes_profile_and_normalises_phone(user_api, user, city):
    response = user_api.patch(
        "/api/v1/me/",
        {"first_name": "Пётр", "last_name": "Сидоров", "phone": "8 (999) 123-45-67", "city": city.pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+79991234567"
    user.refresh_from_db()
    assert (user.first_name, user.phone, user.city_id) == ("Пётр", "+79991234567", city.pk)


@pytest.mark.parametrize(
    "payload",
    [{"phone": "12345"}, {"phone": "+7 999 123"}, {"phone": "phone"}, {"city": 999999}, {"first_name": "x" * 151}],
)
def test_me_patch_bad_input_is_400_and_changes_nothing(user_api, user, payload):
    before = User.objects.values().get(pk=user.pk)

    response = user_api.patch("/api/v1/me/", payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) == set(payload)  # the field map names the bad field
    assert User.objects.values().get(pk=user.pk) == before


def test_me_patch_cannot_change_email_or_verification(user_api, user):
    user_api.patch("/api/v1/me/", {"email": "evil@example.com", "is_verified": True}, format="json")

    user.refresh_from_db()
    assert user.email != "evil@example.com"
    assert not user.is_verified


def test_me_needs_authentication(api_client):
    assert api_client.patch("/api/v1/me/", {"first_name": "x"}, format="json").status_code == 401
    assert api_client.put("/api/v1/me/avatar/", {}).status_code == 401


def test_avatar_upload_stores_reencoded_image_and_thumbnail(user_api, user):
    response = user_api.put(
        "/api/v1/me/avatar/", {"avatar": upload(image_bytes("WEBP", size=(500, 400)), "me.webp")}, format="multipart"
    )

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.avatar.name.endswith(".jpg")
    assert default_storage.exists(user.avatar.name)
    assert default_storage.exists(user.avatar_thumbnail.name)
    assert response.json()["avatar_thumbnail"].endswith(user.avatar_thumbnail.name.split("/")[-1])


def test_new_avatar_replaces_and_deletes_the_old_files(user_api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_api.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes())}, format="multipart")
    user.refresh_from_db()
    old = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        user_api.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes("JPEG"), "b.jpg")}, format="multipart")

    user.refresh_from_db()
    assert user.avatar.name != old
    assert not default_storage.exists(old)


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"%PDF-1.4 not an image", "avatar.png", "image_invalid"),
        (image_bytes("GIF"), "avatar.gif", "image_type_not_allowed"),
        (image_bytes("BMP"), "avatar.bmp", "image_type_not_allowed"),
        (image_bytes("PNG", size=(300, 300))[:-200], "avatar.png", "image_invalid"),
    ],
)
def test_avatar_bad_inputs_are_400_and_change_nothing(user_api, user, data, name, code):
    response = user_api.put("/api/v1/me/avatar/", {"avatar": upload(data, name)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == code
    user.refresh_from_db()
    assert not user.avatar


def test_avatar_too_large_and_too_many_pixels_are_400(user_api, user, settings):
    settings.IMAGE_UPLOAD_MAX_PIXELS = 50 * 50
    response = user_api.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes(size=(60, 60)))}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "image_too_many_pixels"

    settings.IMAGE_UPLOAD_MAX_BYTES = 100
    response = user_api.put("/api/v1/me/avatar/", {"avatar": upload(image_bytes(size=(40, 40)))}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large"
    user.refresh_from_db()
    assert not user.avatar


def test_avatar_without_file_is_400(user_api):
    response = user_api.put("/api/v1/me/avatar/", {}, format="multipart")

    assert response.status_code == 400
    assert "avatar" in response.json()


# --- the page ------------------------------------------------------------------------------


def test_profile_page_needs_login(client):
    response = client.get("/profile/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_profile_page_saves_fields_and_avatar(client, user, city):
    client.force_login(user)

    response = client.post(
        "/profile/",
        {
            "first_name": "Мария",
            "last_name": "Орлова",
            "phone": "+7 912 000-11-22",
            "city": city.pk,
            "avatar_upload": upload(image_bytes("JPEG"), "me.jpg", "image/jpeg"),
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.phone, user.city) == ("Мария", "+79120001122", city)
    assert user.avatar and user.avatar_thumbnail
    page = client.get("/profile/").content.decode()
    assert user.avatar_thumbnail.url in page


def test_profile_page_shows_errors_next_to_fields_and_changes_nothing(client, user):
    client.force_login(user)
    before = User.objects.values().get(pk=user.pk)

    response = client.post(
        "/profile/",
        {"first_name": "Новое", "phone": "12", "avatar_upload": upload(image_bytes("GIF"), "a.gif", "image/gif")},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert "invalid-feedback" in response.content.decode()
    assert User.objects.values().get(pk=user.pk) == before


def test_profile_page_refuses_a_gif_avatar_next_to_the_field(client, user):
    client.force_login(user)

    response = client.post(
        "/profile/", {"first_name": "Новое", "avatar_upload": upload(image_bytes("GIF"), "a.gif", "image/gif")}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["avatar_upload"]
    user.refresh_from_db()
    assert user.first_name != "Новое"
    assert not user.avatar
